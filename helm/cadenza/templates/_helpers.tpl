{{/*
Shared helpers. Every per-service template ranges over .Values.services and
calls these with a dict: (dict "root" $ "key" $key "svc" $svc).
*/}}

{{- define "cadenza.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Release-wide prefix: "<release>" when the release name already contains the chart name, else "<release>-<chart>". */}}
{{- define "cadenza.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "cadenza.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Name of one service's objects, e.g. "cadenza-user-svc". */}}
{{- define "cadenza.svcName" -}}
{{- printf "%s-%s" (include "cadenza.fullname" .root) .svc.name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "cadenza.labels" -}}
helm.sh/chart: {{ include "cadenza.chart" . }}
app.kubernetes.io/part-of: cadenza
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* Selector labels of one service (stable across upgrades: never add to these). */}}
{{- define "cadenza.svcSelectorLabels" -}}
app.kubernetes.io/name: {{ .svc.name }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
{{- end -}}

{{- define "cadenza.svcLabels" -}}
{{ include "cadenza.labels" .root }}
{{ include "cadenza.svcSelectorLabels" . }}
app.kubernetes.io/component: {{ .key }}
{{- end -}}

{{/* Full image reference; a digest wins over the tag. */}}
{{- define "cadenza.image" -}}
{{- $reg := .root.Values.image.registry -}}
{{- $repo := .svc.image.repository -}}
{{- $ref := ternary $repo (printf "%s/%s" $reg $repo) (empty $reg) -}}
{{- if .svc.image.digest -}}
{{- printf "%s@%s" $ref .svc.image.digest -}}
{{- else -}}
{{- printf "%s:%s" $ref (default .root.Chart.AppVersion .svc.image.tag) -}}
{{- end -}}
{{- end -}}

{{/* Secret holding one service's secret env (existing or from the SealedSecret). */}}
{{- define "cadenza.secretName" -}}
{{- default (include "cadenza.svcName" .) .svc.secret.existingSecret -}}
{{- end -}}

{{- define "cadenza.serviceAccountName" -}}
{{- if .svc.serviceAccount.create -}}
{{- default (include "cadenza.svcName" .) .svc.serviceAccount.name -}}
{{- else -}}
{{- default "default" .svc.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/* Pod-level securityContext shared by every pod of the chart. */}}
{{- define "cadenza.podSecurityContext" -}}
{{- toYaml .Values.podSecurityContext }}
{{- end -}}

{{- define "cadenza.containerSecurityContext" -}}
{{- toYaml .Values.containerSecurityContext }}
{{- end -}}

{{/*
Environment for secrets: each key becomes NAME_FILE pointing into the mounted
Secret, so values never sit in the process environment or the pod spec.
*/}}
{{- define "cadenza.secretEnv" -}}
{{- range .keys }}
- name: {{ . }}_FILE
  value: {{ printf "%s/%s" $.mountPath . | quote }}
{{- end }}
{{- end -}}

{{/* NetworkPolicy egress rule for cluster DNS; called with .Values.networkPolicy. */}}
{{- define "cadenza.dnsEgress" -}}
- to:
    - namespaceSelector:
        {{- toYaml .dns.namespaceSelector | nindent 8 }}
      podSelector:
        {{- toYaml .dns.podSelector | nindent 8 }}
  ports:
    - {protocol: UDP, port: 53}
    - {protocol: TCP, port: 53}
{{- end -}}
