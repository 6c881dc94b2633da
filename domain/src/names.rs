//! Names of SPEC §2 (the model crate holds them: the portal runs the same checks).

pub use model::names::*;
