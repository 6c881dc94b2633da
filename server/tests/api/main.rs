//! The integration suite: each test starts the real server on a random port with a fresh
//! database. One test binary on purpose: every extra file under tests/ links separately.

mod apps;
mod authorize;
mod branding;
mod cli;
mod delegation;
mod device;
mod directory;
mod documents;
mod dpop;
mod exchange;
mod factors;
mod faults;
mod foundation;
mod hardening;
mod helpers;
mod instances;
mod languages;
mod oidc;
mod operations;
mod par;
mod portal_forms;
mod providers;
mod registration;
mod resources;
mod selfservice;
mod smtp;
mod token;
