//! Admin rights and the acting principal (the model crate holds them; the portal shows them).

pub use model::rights::*;
