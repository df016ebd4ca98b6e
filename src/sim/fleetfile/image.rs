//! Container image references: `registry/path/name:tag`, with the tag required, because the tag
//! is the version that chooses how the app behaves.

use std::fmt;

use serde::de::{self, Deserialize, Deserializer, Visitor};

/// A container image with a version tag: `ghcr.io/arq/arq-backend:2.4.1`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImageRef {
    pub full: String,
    /// Everything before the tag: what the app catalog is keyed by.
    pub repository: String,
    pub tag: String,
}

impl ImageRef {
    pub fn parse(s: &str) -> Result<Self, String> {
        let bad = |why: String| Err(format!("{s:?} is not a valid image reference: {why}"));
        let without_digest = match s.split_once('@') {
            Some((name, digest)) => {
                let ok = digest.split_once(':').is_some_and(|(alg, hex)| {
                    !alg.is_empty() && hex.len() >= 32 && hex.chars().all(|c| c.is_ascii_hexdigit())
                });
                if !ok {
                    return bad(format!("{digest:?} is not a digest like sha256:<hex>"));
                }
                name
            }
            None => s,
        };
        let last_slash = without_digest.rfind('/').map_or(0, |i| i + 1);
        let Some(colon) = without_digest[last_slash..]
            .rfind(':')
            .map(|i| i + last_slash)
        else {
            return bad(
                "it needs a version tag (…:2.4.1): the tag chooses how the app behaves".into(),
            );
        };
        let (repository, tag) = (&without_digest[..colon], &without_digest[colon + 1..]);
        let tag_ok = !tag.is_empty()
            && tag.len() <= 128
            && tag
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')
            && tag
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c));
        if !tag_ok {
            return bad(format!(
                "the tag {tag:?} may use only letters, digits, '_', '.' and '-' (128 at most)"
            ));
        }
        let mut parts: Vec<&str> = repository.split('/').collect();
        let first = parts[0];
        if parts.len() > 1 && (first.contains(['.', ':']) || first == "localhost") {
            let (host, port) = first.split_once(':').unwrap_or((first, ""));
            let host_ok = !host.is_empty()
                && host
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-');
            if !host_ok || !port.chars().all(|c| c.is_ascii_digit()) {
                return bad(format!("{first:?} is not a registry host"));
            }
            parts.remove(0);
        }
        for part in parts {
            if !path_component_ok(part) {
                return bad(format!(
                    "{part:?}: repository names use lowercase letters, digits and single '.', '_' or '-' between them"
                ));
            }
        }
        Ok(Self {
            full: s.to_owned(),
            repository: repository.to_owned(),
            tag: tag.to_owned(),
        })
    }
}

fn path_component_ok(part: &str) -> bool {
    let alnum = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit();
    let (Some(first), Some(last)) = (part.chars().next(), part.chars().last()) else {
        return false;
    };
    alnum(first)
        && alnum(last)
        && part.chars().all(|c| alnum(c) || "._-".contains(c))
        && !part.contains("..")
        && !part.contains("._")
        && !part.contains("_.")
}

impl fmt::Display for ImageRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.full)
    }
}

impl<'de> Deserialize<'de> for ImageRef {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = ImageRef;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an image such as ghcr.io/org/app:1.2.3")
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<ImageRef, E> {
                ImageRef::parse(s).map_err(E::custom)
            }
        }
        d.deserialize_str(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn image_references() {
        let i = ImageRef::parse("ghcr.io/arq/arq-backend:2.4.1").unwrap();
        assert_eq!(
            (i.repository.as_str(), i.tag.as_str()),
            ("ghcr.io/arq/arq-backend", "2.4.1")
        );
        let i = ImageRef::parse("localhost:5000/app:1").unwrap();
        assert_eq!(i.repository, "localhost:5000/app");
        assert_eq!(
            ImageRef::parse("postgres:16.4-alpine").unwrap().tag,
            "16.4-alpine"
        );
        let digest = format!("redis:7@sha256:{}", "a".repeat(64));
        assert_eq!(ImageRef::parse(&digest).unwrap().repository, "redis");
        assert!(
            ImageRef::parse("ghcr.io/arq/arq-backend")
                .unwrap_err()
                .contains("needs a version tag")
        );
        assert!(
            ImageRef::parse("ghcr.io/Arq/backend:1")
                .unwrap_err()
                .contains("lowercase")
        );
        assert!(ImageRef::parse("app:").is_err());
        assert!(ImageRef::parse("app:-x").is_err());
        assert!(ImageRef::parse("a//b:1").is_err());
    }
}
