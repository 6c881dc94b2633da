//! Ending tokens: RFC 7009 revocation, whole code/refresh families (replay detection), and
//! everything issued for a user or an app until now.

use super::introspect::looks_like_jwt;
use crate::clients::ClientCredentials;
use crate::clock::now;
use crate::error::OAuthError;
use crate::tokens::opaque_token_key_of;
use crate::Services;

impl Services {
    /// `POST /oauth2/revoke/{app}` (RFC 7009): succeeds for any token, known or not.
    pub async fn revoke(
        &self,
        app_id: &str,
        creds: &ClientCredentials,
        token: Option<&str>,
        addr: &str,
    ) -> Result<(), OAuthError> {
        let app = self.app_or_404(app_id).await?;
        let client = self
            .authenticate_app_client(&app, app.client_id_type, creds, addr)
            .await?;
        let token = token
            .filter(|t| !t.is_empty())
            .ok_or_else(|| OAuthError::request("token is required"))?;
        let Some(info) = self.inspect_token(token).await? else {
            return Ok(());
        };
        if info.app_id != app.app_id || !info.client_id.eq_ignore_ascii_case(client.client_id()) {
            return Ok(());
        }
        if looks_like_jwt(token) {
            self.revoke_with(vec![sqlx::query(
                "INSERT INTO revoked_jtis (jti, expires_at) VALUES ($1, $2) ON CONFLICT (jti) DO NOTHING",
            )
            .bind(&info.jti)
            .bind(info.exp)])
            .await
            .map_err(OAuthError::internal)?;
        } else if info.is_refresh {
            let family: Option<String> = sqlx::query_as::<_, (Option<String>,)>(
                "SELECT family_id FROM tokens WHERE token_hash = $1",
            )
            .bind(opaque_token_key_of(token))
            .fetch_optional(&self.store.pool)
            .await
            .map_err(OAuthError::internal)?
            .and_then(|(f,)| f);
            match family {
                Some(f) => self.revoke_family(&f).await?,
                None => self.revoke_opaque(token).await?,
            }
        } else {
            self.revoke_opaque(token).await?;
        }
        Ok(())
    }

    async fn revoke_opaque(&self, token: &str) -> Result<(), OAuthError> {
        self.revoke_with(vec![sqlx::query(
            "UPDATE tokens SET revoked = 1 WHERE token_hash = $1",
        )
        .bind(opaque_token_key_of(token))])
            .await
            .map_err(OAuthError::internal)
    }

    /// Revokes every token of a code/refresh family.
    pub(crate) async fn revoke_family(&self, family: &str) -> Result<(), OAuthError> {
        if family.is_empty() {
            return Ok(());
        }
        let subject = format!("family:{family}");
        self.revoke_with(vec![
            sqlx::query("UPDATE tokens SET revoked = 1 WHERE family_id = $1").bind(family),
            revocation(&subject),
        ])
        .await
        .map_err(OAuthError::internal)
    }

    /// Everything issued for `subject` until now is revoked.
    pub(crate) async fn revoke_subject(&self, subject: &str) -> crate::Result<()> {
        self.revoke_with(vec![revocation(subject)]).await
    }

    /// Runs the statements of a revocation and, on PostgreSQL, its notice to the other
    /// instances in one transaction: `NOTIFY` is delivered at commit, so the others hear of it
    /// the moment it is durable and before the caller is answered; what remains is the time a
    /// listener takes to act on what it heard. Tokens this instance remembers are looked up
    /// again.
    pub(crate) async fn revoke_with<'q>(
        &self,
        statements: Vec<sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>>,
    ) -> crate::Result<()> {
        let mut tx = self.store.pool.begin().await?;
        self.revoke_in(&mut tx, statements).await?;
        tx.commit().await?;
        self.seen.invalidate_all();
        Ok(())
    }

    /// `revoke_with` inside the caller's transaction (the other instances hear of it when it
    /// commits); the caller empties `seen` after the commit.
    pub(crate) async fn revoke_in<'q>(
        &self,
        tx: &mut sqlx::AnyConnection,
        statements: Vec<sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>>,
    ) -> crate::Result<()> {
        for q in statements {
            q.execute(&mut *tx).await?;
        }
        if self.store.backend == crate::store::Backend::Postgres {
            sqlx::query("SELECT pg_notify($1, '')")
                .bind(super::seen::CHANNEL)
                .execute(&mut *tx)
                .await?;
        }
        Ok(())
    }

    /// After any revocation: tokens this instance remembers as valid are looked up again, and
    /// on PostgreSQL every other instance is told to do the same (`seen::CHANNEL`).
    pub(crate) async fn announce_revocation(&self) -> crate::Result<()> {
        self.seen.invalidate_all();
        if self.store.backend == crate::store::Backend::Postgres {
            sqlx::query("SELECT pg_notify($1, '')")
                .bind(super::seen::CHANNEL)
                .execute(&self.store.pool)
                .await?;
        }
        Ok(())
    }
}

/// Everything issued for `subject` before the next second is revoked.
fn revocation(subject: &str) -> sqlx::query::Query<'_, sqlx::Any, sqlx::any::AnyArguments<'_>> {
    sqlx::query(
        "INSERT INTO revocations (subject, revoked_before) VALUES ($1, $2) ON CONFLICT (subject) DO UPDATE SET revoked_before = $2",
    )
    .bind(subject)
    .bind(now() + 1)
}
