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
