//! The cluster's PKI: a CA, the serving certificate, the admin client certificate and the
//! bearer token, made at first start and kept in `<data-dir>/server/tls`.

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose, SanType,
};
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum PkiError {
    #[error("reading or writing {path}: {source}")]
    Io { path: PathBuf, source: io::Error },
    #[error("generating certificates: {0}")]
    Generate(#[from] rcgen::Error),
}

type Result<T> = std::result::Result<T, PkiError>;

/// PEM material the server and the kubeconfig need.
pub struct Pki {
    pub ca_cert: String,
    pub serving_cert: String,
    pub serving_key: String,
    pub admin_cert: String,
    pub admin_key: String,
    pub token: String,
}

/// Loads the PKI from `dir`, creating what is missing; the serving certificate is re-made
/// when its names change (a new IP or hostname).
pub fn ensure(dir: &Path, names: &[String], token: Option<&str>) -> Result<Pki> {
    mkdir(dir)?;
    let (ca_cert, ca_key) = ensure_ca(dir)?;
    let ca_key_pair = KeyPair::from_pem(&ca_key)?;
    let issuer = Issuer::from_ca_cert_pem(&ca_cert, ca_key_pair)?;
    let names_file = dir.join("serving.names");
    let wanted = names.join(",");
    let fresh = read(&names_file).ok().as_deref() != Some(wanted.as_str());
    let (serving_cert, serving_key) = leaf(dir, "serving", fresh, || serving_params(names), &issuer)?;
    write(&names_file, &wanted, 0o600)?;
    let (admin_cert, admin_key) = leaf(dir, "admin", false, admin_params, &issuer)?;
    let token = ensure_token(dir, token)?;
    Ok(Pki { ca_cert, serving_cert, serving_key, admin_cert, admin_key, token })
}

fn ensure_ca(dir: &Path) -> Result<(String, String)> {
    let (cert, key) = (dir.join("ca.crt"), dir.join("ca.key"));
    if cert.exists() && key.exists() {
        return Ok((read(&cert)?, read(&key)?));
    }
    let kp = KeyPair::generate()?;
    let mut p = CertificateParams::new(Vec::<String>::new())?;
    p.distinguished_name = dn("minik8s-ca", None);
    p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    p.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign, KeyUsagePurpose::DigitalSignature];
    p.not_after = rcgen::date_time_ymd(2036, 1, 1);
    let c = p.self_signed(&kp)?;
    write(&cert, &c.pem(), 0o644)?;
    write(&key, &kp.serialize_pem(), 0o600)?;
    Ok((c.pem(), kp.serialize_pem()))
}

/// A certificate signed by the CA, reused from disk unless `renew`.
fn leaf(
    dir: &Path,
    name: &str,
    renew: bool,
    params: impl FnOnce() -> Result<CertificateParams>,
    issuer: &Issuer<'_, KeyPair>,
) -> Result<(String, String)> {
    let (cert, key) = (dir.join(format!("{name}.crt")), dir.join(format!("{name}.key")));
    if !renew && cert.exists() && key.exists() {
        return Ok((read(&cert)?, read(&key)?));
    }
    let kp = KeyPair::generate()?;
    let c = params()?.signed_by(&kp, issuer)?;
    write(&cert, &c.pem(), 0o644)?;
    write(&key, &kp.serialize_pem(), 0o600)?;
    Ok((c.pem(), kp.serialize_pem()))
}

fn serving_params(names: &[String]) -> Result<CertificateParams> {
    let mut p = CertificateParams::new(Vec::<String>::new())?;
    p.subject_alt_names = names
        .iter()
        .map(|n| match n.parse::<std::net::IpAddr>() {
            Ok(ip) => Ok(SanType::IpAddress(ip)),
            Err(_) => Ok(SanType::DnsName(n.as_str().try_into()?)),
        })
        .collect::<Result<_>>()?;
    p.distinguished_name = dn("kube-apiserver", None);
    p.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    p.not_after = rcgen::date_time_ymd(2036, 1, 1);
    Ok(p)
}

fn admin_params() -> Result<CertificateParams> {
    let mut p = CertificateParams::new(Vec::<String>::new())?;
    p.distinguished_name = dn("system:admin", Some("system:masters"));
    p.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
    p.not_after = rcgen::date_time_ymd(2036, 1, 1);
    Ok(p)
}

fn dn(cn: &str, org: Option<&str>) -> DistinguishedName {
    let mut d = DistinguishedName::new();
    d.push(DnType::CommonName, cn);
    if let Some(o) = org {
        d.push(DnType::OrganizationName, o);
    }
    d
}

fn ensure_token(dir: &Path, given: Option<&str>) -> Result<String> {
    let path = dir.join("token");
    if let Some(t) = given {
        write(&path, t, 0o600)?;
        return Ok(t.to_string());
    }
    if let Ok(t) = read(&path) {
        return Ok(t.trim().to_string());
    }
    let t = hex::encode(rand::random::<[u8; 24]>());
    write(&path, &t, 0o600)?;
    Ok(t)
}

fn mkdir(dir: &Path) -> Result<()> {
    fs::create_dir_all(dir).map_err(|source| PkiError::Io { path: dir.into(), source })
}

fn read(path: &Path) -> Result<String> {
    fs::read_to_string(path).map_err(|source| PkiError::Io { path: path.into(), source })
}

/// Writes a file with `mode`, through a temporary file so a crash never leaves half a key.
pub fn write(path: &Path, content: &str, mode: u32) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let tmp = path.with_extension("tmp");
    let io = |source| PkiError::Io { path: path.into(), source };
    fs::write(&tmp, content).map_err(io)?;
    fs::set_permissions(&tmp, fs::Permissions::from_mode(mode)).map_err(io)?;
    fs::rename(&tmp, path).map_err(io)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pki_is_made_once_and_reused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let names = vec!["localhost".to_string(), "127.0.0.1".to_string()];
        let a = ensure(dir.path(), &names, None).expect("first");
        let b = ensure(dir.path(), &names, None).expect("second");
        assert_eq!((a.ca_cert, a.serving_cert, a.token), (b.ca_cert, b.serving_cert, b.token));
    }

    #[test]
    fn new_names_renew_only_the_serving_certificate() {
        let dir = tempfile::tempdir().expect("tempdir");
        let a = ensure(dir.path(), &["localhost".to_string()], None).expect("first");
        let b = ensure(dir.path(), &["localhost".to_string(), "10.0.0.1".to_string()], None).expect("second");
        assert_eq!(a.ca_cert, b.ca_cert);
        assert_ne!(a.serving_cert, b.serving_cert);
        assert_eq!(a.admin_cert, b.admin_cert);
    }
}
