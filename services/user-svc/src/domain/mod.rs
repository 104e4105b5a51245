//! Validated domain values: a handler never sees an unchecked email or password.

pub mod email;
pub mod password;

pub use email::Email;
pub use password::{PasswordHasher, PasswordPolicy};
