//! The branding of the hosted pages (SPEC §6b): product name, accent colour (contrast checked,
//! `model::branding::check_accent`) and a logo (PNG, JPEG, WebP or GIF — recognised by its
//! bytes, not by what the client says —, at most `MAX_LOGO` bytes, served under its content hash
//! so it can be cached for a year). Changed by System Administrators, audited. Each instance
//! keeps the current branding in memory (pages read it on every render); a change here is seen
//! at once, one made on another instance within `REFRESH`.

use std::sync::{Arc, RwLock};
use std::time::Duration;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use model::branding::Branding;
use serde::{Deserialize, Serialize};

use crate::audit::{Entry, Who};
use crate::clock::now;
use crate::error::{DomainError, Result};
use crate::rights::Principal;
use crate::Services;

/// The largest logo taken.
pub const MAX_LOGO: usize = 100 * 1024;
/// How often an instance reads the branding again (changes made elsewhere).
pub const REFRESH: Duration = Duration::from_secs(10);

/// The stored name and colour.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
struct Stored {
    product_name: Option<String>,
    accent_color: Option<String>,
    #[serde(default)]
    default_language: Option<model::i18n::Lang>,
}

/// The stored logo.
#[derive(Clone, Debug, Serialize, Deserialize)]
struct StoredLogo {
    content_type: String,
    hash: String,
    data: String,
}

/// A logo as served.
#[derive(Clone, Debug)]
pub struct Logo {
    pub content_type: &'static str,
    pub hash: String,
    pub bytes: Vec<u8>,
}

/// The changes to the name and colour (absent: unchanged; `accent_color: null`: the default).
#[derive(Clone, Debug, Default, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct BrandingPatch {
    pub product_name: Option<String>,
    #[serde(default, deserialize_with = "some_option")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub accent_color: Option<Option<String>>,
    /// Read-only; ignored.
    #[serde(default)]
    pub logo_url: Option<String>,
    /// The pages' language when neither `ui_locales` nor `Accept-Language` names one Gatehouse
    /// speaks: `en` or `de`.
    pub default_language: Option<model::i18n::Lang>,
}

fn some_option<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> std::result::Result<Option<Option<String>>, D::Error> {
    Ok(Some(Option::<String>::deserialize(d)?))
}

/// The branding every page reads, per instance.
#[derive(Default)]
pub struct BrandingCache {
    current: RwLock<Arc<Branding>>,
    logo: RwLock<Option<Arc<Logo>>>,
}

/// The image type of `bytes`, by their first bytes.
pub fn image_type(bytes: &[u8]) -> Option<&'static str> {
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some("image/png")
    } else if bytes.starts_with(&[0xff, 0xd8, 0xff]) {
        Some("image/jpeg")
    } else if bytes.starts_with(b"GIF87a") || bytes.starts_with(b"GIF89a") {
        Some("image/gif")
    } else if bytes.len() > 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        Some("image/webp")
    } else {
        None
    }
}

impl Services {
    /// The current branding (from memory).
    pub fn branding(&self) -> Arc<Branding> {
        self.branding
            .current
            .read()
            .map(|b| b.clone())
            .unwrap_or_default()
    }

    /// The current logo, if its hash is `hash`.
    pub fn logo(&self, hash: &str) -> Option<Arc<Logo>> {
        let l = self.branding.logo.read().ok()?.clone()?;
        (l.hash == hash).then_some(l)
    }

    async fn setting(&self, key: &str) -> Result<Option<String>> {
        Ok(
            sqlx::query_scalar("SELECT value FROM settings WHERE key = $1")
                .bind(key)
                .fetch_optional(&self.store.pool)
                .await?,
        )
    }

    /// Reads the branding from the database into memory (at start, after a change, and every
    /// `REFRESH`). A stored value that does not decode is an error: the pages keep what they had.
    pub async fn load_branding(&self) -> Result<()> {
        let stored: Stored = match self.setting("branding").await? {
            Some(v) => serde_json::from_str(&v)
                .map_err(|e| DomainError::Internal(format!("settings.branding: {e}")))?,
            None => Stored::default(),
        };
        let logo: Option<StoredLogo> = match self.setting("logo").await? {
            Some(v) => Some(
                serde_json::from_str(&v)
                    .map_err(|e| DomainError::Internal(format!("settings.logo: {e}")))?,
            ),
            None => None,
        };
        let logo = match logo {
            Some(l) => {
                let bytes = STANDARD
                    .decode(&l.data)
                    .map_err(|e| DomainError::Internal(format!("settings.logo: {e}")))?;
                let content_type = image_type(&bytes)
                    .ok_or_else(|| DomainError::Internal("settings.logo: not an image".into()))?;
                Some(Arc::new(Logo {
                    content_type,
                    hash: l.hash,
                    bytes,
                }))
            }
            None => None,
        };
        let b = Branding {
            product_name: stored
                .product_name
                .unwrap_or_else(|| Branding::default().product_name),
            accent_color: stored.accent_color,
            logo_url: logo.as_ref().map(|l| format!("/branding/logo/{}", l.hash)),
            default_language: stored.default_language.unwrap_or_default(),
        };
        if let Ok(mut c) = self.branding.current.write() {
            *c = Arc::new(b);
        }
        if let Ok(mut c) = self.branding.logo.write() {
            *c = logo;
        }
        Ok(())
    }

    async fn put_setting(
        &self,
        actor: &Principal,
        key: &str,
        value: Option<String>,
        action: &'static str,
    ) -> Result<()> {
        let mut tx = self.store.begin_write().await?;
        match value {
            Some(v) => {
                sqlx::query("INSERT INTO settings (key, value, updated_at) VALUES ($1, $2, $3) ON CONFLICT (key) DO UPDATE SET value = $2, updated_at = $3")
                    .bind(key)
                    .bind(v)
                    .bind(now())
                    .execute(&mut *tx)
                    .await?;
            }
            None => {
                sqlx::query("DELETE FROM settings WHERE key = $1")
                    .bind(key)
                    .execute(&mut *tx)
                    .await?;
            }
        }
        crate::audit::write(
            &mut tx,
            Who::Principal(actor),
            &Entry::new(action, "settings", "branding").named(key),
        )
        .await?;
        tx.commit().await?;
        self.load_branding().await
    }

    /// Changes the product name or the accent colour (System Administrators).
    pub async fn update_branding(
        &self,
        actor: &Principal,
        patch: BrandingPatch,
    ) -> Result<Arc<Branding>> {
        actor.require_sysadmin()?;
        let current = self.branding();
        let mut stored = Stored {
            product_name: Some(current.product_name.clone()),
            accent_color: current.accent_color.clone(),
            default_language: Some(current.default_language),
        };
        if let Some(lang) = patch.default_language {
            stored.default_language = Some(lang);
        }
        if let Some(name) = patch.product_name {
            let name = crate::names::normal_form(&name);
            if name.is_empty() || name.chars().count() > 60 {
                return Err(DomainError::invalid(
                    "product_name",
                    "between 1 and 60 characters",
                ));
            }
            stored.product_name = Some(name);
        }
        if let Some(color) = patch.accent_color {
            stored.accent_color = match color.filter(|c| !c.trim().is_empty()) {
                Some(c) => Some(
                    model::branding::check_accent(&c)
                        .map_err(|m| DomainError::invalid("accent_color", &m))?,
                ),
                None => None,
            };
        }
        let value =
            serde_json::to_string(&stored).map_err(|e| DomainError::Internal(e.to_string()))?;
        self.put_setting(actor, "branding", Some(value), "settings.branding")
            .await?;
        Ok(self.branding())
    }

    /// Sets the logo (System Administrators): a PNG, JPEG, WebP or GIF of at most `MAX_LOGO`.
    pub async fn set_logo(&self, actor: &Principal, bytes: &[u8]) -> Result<Arc<Branding>> {
        actor.require_sysadmin()?;
        if bytes.len() > MAX_LOGO {
            return Err(DomainError::invalid(
                "logo",
                format!("at most {} KB", MAX_LOGO / 1024),
            ));
        }
        let content_type = image_type(bytes)
            .ok_or_else(|| DomainError::invalid("logo", "a PNG, JPEG, WebP or GIF image"))?;
        let hash =
            crate::tokens::hex(&<sha2::Sha256 as sha2::Digest>::digest(bytes))[..16].to_string();
        let value = serde_json::to_string(&StoredLogo {
            content_type: content_type.into(),
            hash,
            data: STANDARD.encode(bytes),
        })
        .map_err(|e| DomainError::Internal(e.to_string()))?;
        self.put_setting(actor, "logo", Some(value), "settings.logo")
            .await?;
        Ok(self.branding())
    }

    /// Removes the logo (System Administrators).
    pub async fn remove_logo(&self, actor: &Principal) -> Result<()> {
        actor.require_sysadmin()?;
        self.put_setting(actor, "logo", None, "settings.logo_removed")
            .await
    }

    /// `:root { --accent: … }` for the hosted pages, or nothing for the default.
    pub fn branding_css(&self) -> String {
        match &self.branding().accent_color {
            Some(c) => format!(":root {{ --accent: {c}; }}\n"),
            None => String::new(),
        }
    }
}
