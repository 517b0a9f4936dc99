//! What each admin-plane method needs: the one table of roles, keyed by the
//! gRPC path. Default-deny: a method missing from the table needs `owner`.
//!
//! Adding an RPC is adding one row here.

use crate::model::Role::{self, Operator, Owner, Responder, Viewer};

/// The role a method needs, and what the call does in words (for the
/// PERMISSION_DENIED message: "revoking grants needs the responder role").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Requirement {
    /// The method name (`RevokeFamily`), recorded with the events it writes.
    pub rpc: &'static str,
    pub role: Role,
    pub doing: &'static str,
}

macro_rules! admin {
    ($method:literal) => {
        concat!("/gatehouse.admin.v1.AdminService/", $method)
    };
}

/// `(gRPC path, role, what the call does)`.
const TABLE: &[(&str, Role, &str)] = &[
    // Reads and the event stream.
    (admin!("GetClient"), Viewer, "reading clients"),
    (admin!("ListClients"), Viewer, "reading clients"),
    (admin!("ListScopes"), Viewer, "reading scopes"),
    (admin!("ListUsers"), Viewer, "reading users"),
    (admin!("ListFamilies"), Viewer, "reading grants"),
    (admin!("GetFamily"), Viewer, "reading grants"),
    (admin!("ListEvents"), Viewer, "reading events"),
    (admin!("WatchEvents"), Viewer, "following events"),
    (admin!("GetStatus"), Viewer, "reading the status"),
    (
        admin!("ListClientSecrets"),
        Viewer,
        "reading client secrets",
    ),
    (admin!("WhoAmI"), Viewer, "asking who you are"),
    (
        "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo",
        Viewer,
        "reflection",
    ),
    (
        "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
        Viewer,
        "reflection",
    ),
    // Incident response.
    (admin!("RevokeFamily"), Responder, "revoking grants"),
    (admin!("RevokeClientFamilies"), Responder, "revoking grants"),
    (admin!("RevokeUserFamilies"), Responder, "revoking grants"),
    (
        admin!("SetClientDisabled"),
        Responder,
        "disabling or enabling clients",
    ),
    (
        admin!("SetUserDisabled"),
        Responder,
        "disabling or enabling users",
    ),
    (
        admin!("SetMaintenance"),
        Responder,
        "switching maintenance mode",
    ),
    // Configuration.
    (admin!("CreateClient"), Operator, "creating clients"),
    (admin!("UpdateClient"), Operator, "updating clients"),
    (
        admin!("RotateClientSecret"),
        Operator,
        "rotating client secrets",
    ),
    (admin!("DeleteClient"), Operator, "deleting clients"),
    (
        admin!("RevokeClientSecret"),
        Operator,
        "revoking client secrets",
    ),
    (admin!("UpsertScope"), Operator, "changing scopes"),
    (admin!("RemoveScope"), Operator, "removing scopes"),
    (admin!("CreateUser"), Operator, "creating users"),
    (admin!("SetUserPassword"), Operator, "setting passwords"),
    // Admin identities.
    (admin!("CreateAdminToken"), Owner, "creating admin tokens"),
    (admin!("ListAdminTokens"), Owner, "listing admin tokens"),
    (admin!("RevokeAdminToken"), Owner, "revoking admin tokens"),
];

/// What calling `path` needs; `owner` for anything not in the table.
pub fn requirement(path: &str) -> Requirement {
    let rpc = |path: &'static str| path.rsplit('/').next().unwrap_or(path);
    TABLE
        .iter()
        .find(|(known, _, _)| *known == path)
        .map(|&(known, role, doing)| Requirement {
            rpc: rpc(known),
            role,
            doing,
        })
        .unwrap_or(Requirement {
            rpc: "unknown",
            role: Owner,
            doing: "calling a method the role table does not name",
        })
}

/// Every AdminService method the table names, with its role (for tests and docs).
pub fn admin_methods() -> impl Iterator<Item = (&'static str, Role)> {
    TABLE
        .iter()
        .filter_map(|&(path, role, _)| path.strip_prefix(admin!("")).map(|method| (method, role)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn methods_missing_from_the_table_need_the_owner() {
        assert_eq!(
            requirement("/gatehouse.admin.v1.AdminService/Nope").role,
            Owner
        );
        assert_eq!(requirement("/other.Service/GetClient").role, Owner);
        assert_eq!(requirement(admin!("RevokeFamily")).role, Responder);
        assert_eq!(requirement(admin!("RevokeFamily")).rpc, "RevokeFamily");
    }

    #[test]
    fn roles_nest() {
        assert!(Viewer < Responder && Responder < Operator && Operator < Owner);
    }
}
