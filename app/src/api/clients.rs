//! The Clients page of an app whose Client ID Type is `registered` (SPEC §3b): its clients, and
//! forms to add one, rotate a secret, delete one. The forms post to `POST
//! /admin/apps/{app}/clients` (`server::portal::clients_form`), which acts and renders the page
//! again with what happened — a new secret shown once — provided as `PostedClients`.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// A client as the page lists it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ClientRow {
    pub client_id: String,
    pub name: String,
    pub auth_method: String,
    pub grant_types: Vec<String>,
    pub redirect_uris: Vec<String>,
    /// It registered itself (RFC 7591) rather than being added here.
    pub self_registered: bool,
    pub created_at: String,
    pub last_used_at: Option<String>,
}

/// What the page shows.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ClientsData {
    pub app_id: String,
    pub app_name: String,
    /// The app takes registered clients (else the page says how to switch it).
    pub registered: bool,
    pub clients: Vec<ClientRow>,
    /// What the last form did, or why it was refused.
    pub message: Option<String>,
    pub refused: bool,
    /// A secret just made: `(client_id, secret)`, shown once.
    pub secret: Option<(String, String)>,
}

/// The page as a form post left it (provided as context by the form's handler).
#[derive(Clone, Debug)]
pub struct PostedClients(pub ClientsData);

#[server(prefix = "/sfn", endpoint = "apps/clients")]
pub async fn load_clients(app_id: String) -> Result<ClientsData, ServerFnError> {
    use super::ssr::*;
    if let Some(PostedClients(data)) = use_context::<PostedClients>() {
        return Ok(data);
    }
    let p = principal().await?;
    ssr::clients_data(&services()?, &p, &app_id)
        .await
        .map_err(map_err)
}

#[cfg(feature = "ssr")]
pub use ssr::clients_data;

#[cfg(feature = "ssr")]
mod ssr {
    use domain::apps::ClientIdType;
    use domain::registration::SELF_REGISTERED;
    use domain::{DomainError, Principal, Services};

    use super::{ClientRow, ClientsData};

    /// The app's clients as the page shows them.
    pub async fn clients_data(
        s: &Services,
        p: &Principal,
        app_id: &str,
    ) -> Result<ClientsData, DomainError> {
        let app = s.get_app(p, app_id).await?;
        let clients = s
            .list_clients(p, app_id)
            .await?
            .into_iter()
            .map(|c| ClientRow {
                name: c.metadata.client_name.clone().unwrap_or_default(),
                auth_method: c.metadata.token_endpoint_auth_method.clone(),
                grant_types: c.metadata.grant_types.clone(),
                redirect_uris: c.metadata.redirect_uris.clone(),
                self_registered: c.created_by == SELF_REGISTERED,
                created_at: c.created_at,
                last_used_at: c.last_used_at,
                client_id: c.client_id,
            })
            .collect();
        Ok(ClientsData {
            app_id: app.app_id.clone(),
            app_name: app.name.clone(),
            registered: app.client_id_type == ClientIdType::Registered,
            clients,
            ..ClientsData::default()
        })
    }
}
