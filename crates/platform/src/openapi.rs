//! OpenAPI pieces every service's document shares: the problem+json error
//! schema and the bearer security scheme.

use serde::Serialize;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, ToSchema};

/// The problem+json error shape (RFC 9457) of [`crate::Problem`], for the
/// document only.
#[derive(Debug, Serialize, ToSchema)]
#[allow(dead_code)]
pub struct ProblemDoc {
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    /// Same as `detail` (the seed's client reads `message`).
    pub message: String,
    /// Same as `detail` (the seed's auth pages read `error`).
    pub error: String,
    pub errors: Option<Vec<FieldErrorDoc>>,
}

#[derive(Debug, Serialize, ToSchema)]
#[allow(dead_code)]
pub struct FieldErrorDoc {
    pub field: String,
    pub message: String,
}

/// Adds the `bearer` (JWT) security scheme.
pub struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
    }
}

/// When a shared answer applies to an operation.
#[derive(Debug, Clone, Copy)]
pub enum When {
    Always,
    /// The operation names a security requirement (a bearer token).
    Secured,
    /// It takes a path or query parameter.
    Params,
    /// It takes a query parameter.
    Query,
    /// It takes a request body.
    Body,
    /// It takes a parameter or a body.
    Input,
    /// It takes a query parameter or a body.
    BodyOrQuery,
    /// Its path does not end with this suffix.
    PathNotEndingWith(&'static str),
}

/// One answer every matching operation can give besides its own.
#[derive(Debug, Clone, Copy)]
pub struct Shared {
    pub when: When,
    pub status: &'static str,
    pub description: &'static str,
}

impl Shared {
    pub const fn new(when: When, status: &'static str, description: &'static str) -> Self {
        Self {
            when,
            status,
            description,
        }
    }
}

/// Documents the answers a service's routes share (each service lists its
/// own: which dependency gives the 503, whether every route is admin-only)
/// and makes every 4xx/5xx of the document `application/problem+json`
/// with the [`ProblemDoc`] schema, which is what [`crate::Problem`] sends.
/// A status an operation documents itself is kept; among the shared ones,
/// the first matching rule for a status wins.
pub struct ProblemResponses(pub &'static [Shared]);

impl Modify for ProblemResponses {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::path::ParameterIn;
        use utoipa::openapi::{ContentBuilder, Ref, RefOr, ResponseBuilder};

        for (path, item) in openapi.paths.paths.iter_mut() {
            let ops = [
                &mut item.get,
                &mut item.put,
                &mut item.post,
                &mut item.patch,
                &mut item.delete,
            ];
            for op in ops.into_iter().flatten() {
                let params = op.parameters.as_deref().unwrap_or_default();
                let has_query = params.iter().any(|p| p.parameter_in == ParameterIn::Query);
                let has_path = params.iter().any(|p| p.parameter_in == ParameterIn::Path);
                let has_body = op.request_body.is_some();
                let secured = op.security.as_ref().is_some_and(|s| !s.is_empty());
                for rule in self.0 {
                    let applies = match rule.when {
                        When::Always => true,
                        When::Secured => secured,
                        When::Params => has_path || has_query,
                        When::Query => has_query,
                        When::Body => has_body,
                        When::Input => has_path || has_query || has_body,
                        When::BodyOrQuery => has_query || has_body,
                        When::PathNotEndingWith(suffix) => !path.ends_with(suffix),
                    };
                    if applies {
                        op.responses
                            .responses
                            .entry(rule.status.to_owned())
                            .or_insert_with(|| {
                                ResponseBuilder::new().description(rule.description).into()
                            });
                    }
                }
                for (status, response) in op.responses.responses.iter_mut() {
                    if !(status.starts_with('4') || status.starts_with('5')) {
                        continue;
                    }
                    if let RefOr::T(response) = response {
                        response.content.clear();
                        response.content.insert(
                            "application/problem+json".to_owned(),
                            ContentBuilder::new()
                                .schema(Some(Ref::from_schema_name("ProblemDoc")))
                                .build(),
                        );
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use utoipa::openapi::path::{HttpMethod, OperationBuilder, ParameterBuilder, ParameterIn};
    use utoipa::openapi::request_body::RequestBodyBuilder;
    use utoipa::openapi::{OpenApiBuilder, PathItem, PathsBuilder, ResponseBuilder};

    const RULES: &[Shared] = &[
        Shared::new(When::PathNotEndingWith("/jwks.json"), "503", "down"),
        Shared::new(When::Query, "422", "bad query"),
        Shared::new(When::Body, "422", "bad body"),
        Shared::new(When::Input, "400", "unreadable"),
    ];

    #[test]
    fn shared_answers_follow_their_rule_and_every_error_is_problem_json() {
        let with_query = OperationBuilder::new()
            .parameter(
                ParameterBuilder::new()
                    .name("limit")
                    .parameter_in(ParameterIn::Query),
            )
            .response("404", ResponseBuilder::new().description("no such album"))
            .build();
        let with_body = OperationBuilder::new()
            .request_body(Some(RequestBodyBuilder::new().build()))
            .build();
        let plain = OperationBuilder::new().build();
        let mut doc = OpenApiBuilder::new()
            .paths(
                PathsBuilder::new()
                    .path("/album", PathItem::new(HttpMethod::Get, with_query))
                    .path("/batch", PathItem::new(HttpMethod::Post, with_body))
                    .path(
                        "/.well-known/jwks.json",
                        PathItem::new(HttpMethod::Get, plain),
                    ),
            )
            .build();
        ProblemResponses(RULES).modify(&mut doc);
        let statuses = |path: &str| {
            let item = &doc.paths.paths[path];
            let op = item.get.as_ref().or(item.post.as_ref()).unwrap();
            op.responses
                .responses
                .iter()
                .map(|(status, r)| {
                    let utoipa::openapi::RefOr::T(r) = r else {
                        panic!("a reference")
                    };
                    let desc = r.description.clone();
                    let problem = r.content.contains_key("application/problem+json");
                    (status.clone(), desc, problem)
                })
                .collect::<Vec<_>>()
        };
        let album = statuses("/album");
        assert!(album.contains(&("404".into(), "no such album".into(), true)));
        assert!(album.contains(&("422".into(), "bad query".into(), true)));
        assert!(album.contains(&("400".into(), "unreadable".into(), true)));
        assert!(album.contains(&("503".into(), "down".into(), true)));
        let batch = statuses("/batch");
        assert!(
            batch.contains(&("422".into(), "bad body".into(), true)),
            "{batch:?}"
        );
        assert_eq!(statuses("/.well-known/jwks.json"), vec![]);
    }
}
