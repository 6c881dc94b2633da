//! One module per screen.
pub mod account;
pub mod activity;
pub mod admin;
pub mod apps;
pub mod audit;
pub mod clients;
pub mod device;
pub mod login;
pub mod notice;
pub mod providers;
pub mod roles;
pub mod security;
pub mod selfservice;
pub mod settings;
pub mod users;
