//! One module per screen.
pub mod account;
pub mod admin;
pub mod apps;
pub mod login;
pub mod roles;
pub mod users;
