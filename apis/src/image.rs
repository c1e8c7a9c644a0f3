//! Image references, read as pkg/util/parsers.ParseImageName reads them (docker's
//! reference grammar), for the one thing defaulting needs: the tag.

/// The tag `ParseImageName` reports: the written tag, `latest` when there is neither a tag nor
/// a digest, and `""` for a digest-only or unparseable reference.
pub fn tag(image: &str) -> String {
    parse(image).unwrap_or_default()
}

fn parse(image: &str) -> Option<String> {
    let (name_tag, digest) = match image.split_once('@') {
        Some((n, d)) => (n, Some(d)),
        None => (image, None),
    };
    if digest.is_some_and(|d| !valid_digest(d)) {
        return None;
    }
    let last_slash = name_tag.rfind('/').map_or(0, |i| i + 1);
    let (name, tag) = match name_tag[last_slash..].rfind(':') {
        Some(i) => (&name_tag[..last_slash + i], Some(&name_tag[last_slash + i + 1..])),
        None => (name_tag, None),
    };
    if !valid_name(name) || tag.is_some_and(|t| !valid_tag(t)) {
        return None;
    }
    Some(match (tag, digest) {
        (Some(t), _) => t.to_string(),
        (None, Some(_)) => String::new(),
        (None, None) => "latest".to_string(),
    })
}

/// `[domain/]path`, path components lower case as docker requires.
fn valid_name(name: &str) -> bool {
    if name.is_empty() || name.len() > 255 {
        return false;
    }
    let (domain, path) = match name.split_once('/') {
        Some((d, p)) if is_domain(d) => (Some(d), p),
        _ => (None, name),
    };
    domain.is_none_or(valid_domain) && path.split('/').all(valid_path_component)
}

fn is_domain(first: &str) -> bool {
    first.contains(['.', ':']) || first == "localhost" || first.bytes().any(|b| b.is_ascii_uppercase())
}

fn valid_domain(d: &str) -> bool {
    let (host, port) = match d.rsplit_once(':') {
        Some((h, p)) if !h.starts_with('[') || h.ends_with(']') => (h, Some(p)),
        _ => (d, None),
    };
    let host_ok = host.split('.').all(|c| {
        !c.is_empty()
            && c.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
            && !c.starts_with('-')
            && !c.ends_with('-')
    }) || (host.starts_with('[') && host.ends_with(']'));
    host_ok && port.is_none_or(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
}

/// `[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*`
fn valid_path_component(c: &str) -> bool {
    let alnum = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    let b = c.as_bytes();
    if b.is_empty() || !alnum(b[0]) || !alnum(b[b.len() - 1]) {
        return false;
    }
    let mut i = 0;
    while i < b.len() {
        if alnum(b[i]) {
            i += 1;
            continue;
        }
        let sep_len = b[i..].iter().take_while(|x| !alnum(**x)).count();
        let sep = &c[i..i + sep_len];
        let ok = matches!(sep, "." | "_" | "__") || sep.bytes().all(|x| x == b'-');
        if !ok {
            return false;
        }
        i += sep_len;
    }
    true
}

/// `[\w][\w.-]{0,127}`
fn valid_tag(t: &str) -> bool {
    let word = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    !t.is_empty() && t.len() <= 128 && word(t.as_bytes()[0]) && t.bytes().all(|b| word(b) || b == b'.' || b == b'-')
}

/// `algorithm:hex`, hex at least 32 characters.
fn valid_digest(d: &str) -> bool {
    let Some((alg, hex)) = d.split_once(':') else {
        return false;
    };
    !alg.is_empty()
        && alg.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"+._-".contains(&b))
        && hex.len() >= 32
        && hex.bytes().all(|b| b.is_ascii_hexdigit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_image_without_a_tag_is_latest() {
        assert_eq!(tag("nginx"), "latest");
        assert_eq!(tag("quay.io/fluentd_elasticsearch/fluentd"), "latest");
        assert_eq!(tag("localhost:5000/app"), "latest");
    }

    #[test]
    fn a_written_tag_is_reported() {
        assert_eq!(tag("nginx:1.25"), "1.25");
        assert_eq!(tag("quay.io/fluentd_elasticsearch/fluentd:v2.5.2"), "v2.5.2");
        assert_eq!(tag("localhost:5000/app:latest"), "latest");
    }

    #[test]
    fn a_digest_only_reference_has_no_tag() {
        let d = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
        assert_eq!(tag(&format!("busybox@{d}")), "");
        assert_eq!(tag(&format!("busybox:1.36@{d}")), "1.36");
    }

    #[test]
    fn an_unparseable_reference_has_no_tag() {
        assert_eq!(tag("MyImage"), "");
        assert_eq!(tag(""), "");
    }
}
