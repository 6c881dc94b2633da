//! Scopes and their REST regexes (the model crate holds them: the portal runs the same checks).

pub use model::scopes::*;
