//! Admin rights and the principal (who is acting) that every service call is checked against.

use serde::{Deserialize, Serialize};

use crate::{Forbidden, Invalid, Result};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Right {
    Apps,
    Users,
    Roles,
}

impl Right {
    pub const ALL: [Right; 3] = [Right::Apps, Right::Users, Right::Roles];
    pub fn as_str(self) -> &'static str {
        match self {
            Right::Apps => "apps",
            Right::Users => "users",
            Right::Roles => "roles",
        }
    }
    pub fn parse(s: &str) -> Option<Right> {
        Right::ALL.into_iter().find(|r| r.as_str() == s)
    }
}

/// Parses a list of right names; `field` names the JSON field for the error.
pub fn parse_rights(field: &str, names: &[String]) -> Result<Vec<Right>> {
    let mut out = Vec::new();
    for (i, n) in names.iter().enumerate() {
        let r = Right::parse(n.trim()).ok_or_else(|| {
            Invalid::new(
                format!("{field}[{i}]"),
                format!("unknown admin right {n:?}: use apps, users or roles"),
            )
        })?;
        if !out.contains(&r) {
            out.push(r);
        }
    }
    out.sort();
    Ok(out)
}

pub fn rights_to_db(r: &[Right]) -> String {
    r.iter().map(|r| r.as_str()).collect::<Vec<_>>().join(",")
}

pub fn rights_from_db(s: &str) -> Vec<Right> {
    s.split(',').filter_map(Right::parse).collect()
}

/// Who is acting, with the rights their roles give them (the portal shows it too).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Principal {
    pub user_id: String,
    pub login_name: String,
    pub display_name: String,
    pub rights: Vec<Right>,
    pub sysadmin: bool,
    /// Where the request came from, for the audit log; never sent to the browser.
    #[serde(skip)]
    pub origin: Origin,
}

/// Where an acting principal's request came from: the client address, and the OAuth2 client
/// whose bearer token it presented (none for the portal's session or the command line).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Origin {
    pub address: Option<String>,
    pub client_id: Option<String>,
}

impl Principal {
    /// The command line acting on the database directly: every right, no user behind it.
    pub fn system() -> Principal {
        Principal {
            user_id: String::new(),
            login_name: "system".into(),
            display_name: "Gatehouse command line".into(),
            rights: Right::ALL.to_vec(),
            sysadmin: true,
            origin: Origin::default(),
        }
    }
    pub fn has(&self, r: Right) -> bool {
        self.sysadmin || self.rights.contains(&r)
    }
    pub fn require(&self, r: Right) -> Result<(), Forbidden> {
        if self.has(r) {
            Ok(())
        } else {
            Err(Forbidden(format!(
                "this needs the admin right \"{}\"",
                r.as_str()
            )))
        }
    }
    pub fn require_sysadmin(&self) -> Result<(), Forbidden> {
        if self.sysadmin {
            Ok(())
        } else {
            Err(Forbidden(
                "this needs membership of System Administrator".into(),
            ))
        }
    }
    pub fn any_admin_right(&self) -> bool {
        self.sysadmin || !self.rights.is_empty()
    }
    /// Holds every one of `rights` (System Administrators hold them all).
    pub fn holds_all(&self, rights: &[Right]) -> bool {
        self.sysadmin || rights.iter().all(|r| self.rights.contains(r))
    }
    /// The delegation rule (SPEC §2): an administrator acts on a user only when the user's
    /// rights and System Administrator membership are a subset of the actor's own.
    pub fn outranks(&self, target: &Standing) -> bool {
        self.sysadmin || (!target.sysadmin && self.holds_all(&target.rights))
    }
}

/// What a user holds: the rights their roles give them (Everybody's included) and whether they
/// are a System Administrator member.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Standing {
    pub rights: Vec<Right>,
    pub sysadmin: bool,
}

impl Standing {
    pub fn of(p: &Principal) -> Standing {
        Standing {
            rights: p.rights.clone(),
            sysadmin: p.sysadmin,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_rights_dedups_and_rejects_unknown() {
        let r = parse_rights(
            "admin_rights",
            &["users".into(), "apps".into(), "users".into()],
        )
        .unwrap_or_default();
        assert_eq!(r, vec![Right::Apps, Right::Users]);
        assert!(parse_rights("admin_rights", &["root".into()]).is_err());
        assert_eq!(rights_from_db(&rights_to_db(&r)), r);
    }

    #[test]
    fn sysadmin_has_every_right() {
        let p = Principal {
            user_id: "1".into(),
            login_name: "a".into(),
            display_name: String::new(),
            rights: vec![],
            sysadmin: true,
            origin: Origin::default(),
        };
        assert!(Right::ALL.iter().all(|r| p.has(*r)));
        let q = Principal {
            sysadmin: false,
            rights: vec![Right::Apps],
            ..p
        };
        assert!(q.require(Right::Users).is_err());
        assert!(q.require(Right::Apps).is_ok());
        assert!(q.require_sysadmin().is_err());
    }

    #[test]
    fn an_actor_outranks_only_users_holding_a_subset_of_its_rights() {
        let actor = Principal {
            user_id: "1".into(),
            login_name: "a".into(),
            display_name: String::new(),
            rights: vec![Right::Users],
            sysadmin: false,
            origin: Origin::default(),
        };
        let plain = Standing::default();
        let same = Standing {
            rights: vec![Right::Users],
            sysadmin: false,
        };
        let more = Standing {
            rights: vec![Right::Users, Right::Roles],
            sysadmin: false,
        };
        let sys = Standing {
            rights: vec![],
            sysadmin: true,
        };
        assert!(actor.outranks(&plain));
        assert!(actor.outranks(&same));
        assert!(!actor.outranks(&more));
        assert!(!actor.outranks(&sys));
        let root = Principal {
            sysadmin: true,
            rights: vec![],
            ..actor
        };
        assert!(root.outranks(&more) && root.outranks(&sys));
        assert!(root.holds_all(&Right::ALL));
    }
}
