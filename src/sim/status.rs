//! API errors as the real API server words them, rendered as `meta/v1` Status objects.

use serde_json::{Value, json};

/// One failed request. `Display` is the Status message, worded like kube-apiserver's so that kubectl
/// prints exactly what an engineer would see against a real cluster.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ApiError {
    pub code: u16,
    pub reason: &'static str,
    pub message: String,
    pub details: Option<Details>,
}

/// The `details` block: which object the error is about.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Details {
    pub name: String,
    pub group: String,
    pub kind: String,
}

/// `pods`, or `deployments.apps`: the resource as the server names it in messages.
pub fn qualified(plural: &str, group: &str) -> String {
    if group.is_empty() {
        plural.to_string()
    } else {
        format!("{plural}.{group}")
    }
}

impl ApiError {
    fn new(code: u16, reason: &'static str, message: impl Into<String>) -> Self {
        Self {
            code,
            reason,
            message: message.into(),
            details: None,
        }
    }

    fn about(mut self, name: &str, plural: &str, group: &str) -> Self {
        self.details = Some(Details {
            name: name.to_string(),
            group: group.to_string(),
            kind: plural.to_string(),
        });
        self
    }

    pub fn not_found(plural: &str, group: &str, name: &str) -> Self {
        let q = qualified(plural, group);
        Self::new(404, "NotFound", format!("{q} \"{name}\" not found")).about(name, plural, group)
    }

    pub fn already_exists(plural: &str, group: &str, name: &str) -> Self {
        let q = qualified(plural, group);
        Self::new(
            409,
            "AlreadyExists",
            format!("{q} \"{name}\" already exists"),
        )
        .about(name, plural, group)
    }

    pub fn conflict(plural: &str, group: &str, name: &str) -> Self {
        let q = qualified(plural, group);
        Self::new(
            409,
            "Conflict",
            format!(
                "Operation cannot be fulfilled on {q} \"{name}\": the object has been modified; \
                 please apply your changes to the latest version and try again"
            ),
        )
        .about(name, plural, group)
    }

    /// `deployments.apps "web" is forbidden: User "viewer" cannot patch resource "deployments/scale"
    /// in API group "apps" in the namespace "shop"`.
    pub fn forbidden(
        user: &str,
        verb: &str,
        plural: &str,
        subresource: Option<&str>,
        group: &str,
        namespace: Option<&str>,
        name: Option<&str>,
    ) -> Self {
        let q = qualified(plural, group);
        let what = match subresource {
            Some(sub) => format!("{plural}/{sub}"),
            None => plural.to_string(),
        };
        let subject = match name {
            Some(n) => format!("{q} \"{n}\" is forbidden"),
            None => format!("{q} is forbidden"),
        };
        let scope = match namespace {
            Some(ns) => format!(" in the namespace \"{ns}\""),
            None => " at the cluster scope".to_string(),
        };
        let err = Self::new(
            403,
            "Forbidden",
            format!(
                "{subject}: User \"{user}\" cannot {verb} resource \"{what}\" in API group \"{group}\"{scope}"
            ),
        );
        err.about(name.unwrap_or(""), plural, group)
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(400, "BadRequest", message)
    }

    pub fn invalid(kind: &str, group: &str, name: &str, causes: &str) -> Self {
        let q = if group.is_empty() {
            kind.to_string()
        } else {
            format!("{kind}.{group}")
        };
        Self::new(
            422,
            "Invalid",
            format!("{q} \"{name}\" is invalid: {causes}"),
        )
    }

    /// An unknown URL: the real server answers a 404 Status with this message.
    pub fn no_route() -> Self {
        Self::new(
            404,
            "NotFound",
            "the server could not find the requested resource",
        )
    }

    pub fn method_not_allowed(method: &str) -> Self {
        Self::new(
            405,
            "MethodNotAllowed",
            format!("the server does not allow this method on the requested resource ({method})"),
        )
    }

    pub fn unsupported_media_type(content_type: &str) -> Self {
        Self::new(
            415,
            "UnsupportedMediaType",
            format!(
                "the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml, application/strategic-merge-patch+json (got {content_type:?})"
            ),
        )
    }

    /// A request body in an encoding the simulator does not read.
    pub fn unsupported_body(message: impl Into<String>) -> Self {
        Self::new(415, "UnsupportedMediaType", message)
    }

    pub fn too_large(limit: usize) -> Self {
        Self::new(
            413,
            "RequestEntityTooLarge",
            format!("Request entity too large: limit is {limit}"),
        )
    }

    pub fn gone(message: impl Into<String>) -> Self {
        Self::new(410, "Expired", message)
    }

    pub fn unauthorized() -> Self {
        Self::new(401, "Unauthorized", "Unauthorized")
    }

    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(500, "InternalError", message)
    }

    pub fn unavailable(message: impl Into<String>) -> Self {
        Self::new(503, "ServiceUnavailable", message)
    }

    /// The `meta/v1` Status object.
    pub fn to_status(&self) -> Value {
        let mut status = json!({
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
            "code": self.code,
        });
        if let Some(d) = &self.details {
            let mut details = serde_json::Map::new();
            if !d.name.is_empty() {
                details.insert("name".into(), d.name.clone().into());
            }
            if !d.group.is_empty() {
                details.insert("group".into(), d.group.clone().into());
            }
            details.insert("kind".into(), d.kind.clone().into());
            status["details"] = Value::Object(details);
        }
        status
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_match_the_real_server() {
        assert_eq!(
            ApiError::not_found("deployments", "apps", "web").to_string(),
            "deployments.apps \"web\" not found"
        );
        assert_eq!(
            ApiError::not_found("pods", "", "p").to_status()["details"],
            json!({"name": "p", "kind": "pods"})
        );
        assert_eq!(
            ApiError::forbidden(
                "viewer",
                "patch",
                "deployments",
                Some("scale"),
                "apps",
                Some("shop"),
                Some("web")
            )
            .to_string(),
            "deployments.apps \"web\" is forbidden: User \"viewer\" cannot patch resource \
             \"deployments/scale\" in API group \"apps\" in the namespace \"shop\""
        );
        let conflict = ApiError::conflict("deployments", "apps", "web").to_status();
        assert_eq!(conflict["code"], 409);
        assert_eq!(conflict["reason"], "Conflict");
    }
}
