{{/*
URL of docs/runbooks.md for alerts and dashboards: prometheusRule.runbookBaseUrl, or
the chart's home plus the file's path (GitHub: /blob/main/..., GitLab: /-/blob/main/...).
*/}}
{{- define "cadenza.runbookUrl" -}}
{{- $blob := ternary "/blob/main/docs/runbooks.md" "/-/blob/main/docs/runbooks.md" (contains "github.com" .Chart.Home) -}}
{{- default (printf "%s%s" (trimSuffix "/" .Chart.Home) $blob) .Values.prometheusRule.runbookBaseUrl -}}
{{- end -}}
