//! Certificates made by OpenSSL for the tests that speak TLS (`serve_mtls.rs`,
//! `serve_identity.rs`): self-signed CAs, leaf certificates they sign, and (for revocation) a
//! CA database that `openssl ca` revokes certificates in and writes CRLs from.

#![allow(dead_code)]

use std::path::Path;
use std::process::Command;

pub fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "openssl {}: {}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A self-signed CA `NAME.pem` / `NAME.key` (P-256).
pub fn ca(dir: &Path, name: &str) {
    openssl(
        dir,
        &[
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-keyout",
            &format!("{name}.key"),
            "-out",
            &format!("{name}.pem"),
            "-days",
            "2",
            "-subj",
            &format!("/CN={name}"),
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,keyCertSign,cRLSign",
        ],
    );
}

/// A leaf certificate `NAME.pem` / `NAME.key` signed by CA `ca`, with extensions `ext`.
pub fn leaf(dir: &Path, ca: &str, name: &str, ext: &str) {
    std::fs::write(dir.join(format!("{name}.ext")), ext).unwrap();
    openssl(
        dir,
        &[
            "req",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-keyout",
            &format!("{name}.key"),
            "-out",
            &format!("{name}.csr"),
            "-subj",
            &format!("/CN={name}"),
        ],
    );
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            &format!("{name}.csr"),
            "-CA",
            &format!("{ca}.pem"),
            "-CAkey",
            &format!("{ca}.key"),
            "-CAcreateserial",
            "-out",
            &format!("{name}.pem"),
            "-days",
            "2",
            "-extfile",
            &format!("{name}.ext"),
        ],
    );
}

/// The `openssl ca` configuration of CA `ca` (its database `ca.index`), written once.
fn ca_config(dir: &Path, ca: &str) -> String {
    let config = format!("{ca}.cnf");
    if !dir.join(&config).exists() {
        std::fs::write(dir.join(format!("{ca}.index")), "").unwrap();
        std::fs::write(dir.join(format!("{ca}.crlnumber")), "01\n").unwrap();
        std::fs::write(
            dir.join(&config),
            format!(
                "[ca]\ndefault_ca = this\n[this]\ndatabase = {ca}.index\n\
                 crlnumber = {ca}.crlnumber\ncertificate = {ca}.pem\nprivate_key = {ca}.key\n\
                 default_md = sha256\ndefault_crl_days = 2\n"
            ),
        )
        .unwrap();
    }
    config
}

/// Revokes certificate `name` (`NAME.pem`) in CA `ca`'s database (`openssl ca -revoke`).
pub fn revoke(dir: &Path, ca: &str, name: &str) {
    let config = ca_config(dir, ca);
    openssl(
        dir,
        &["ca", "-config", &config, "-revoke", &format!("{name}.pem")],
    );
}

/// Writes CA `ca`'s CRL to `out` (`openssl ca -gencrl`), with `extra` arguments (a validity).
pub fn gencrl(dir: &Path, ca: &str, out: &str, extra: &[&str]) {
    let config = ca_config(dir, ca);
    let mut args = vec!["ca", "-config", &config, "-gencrl", "-out", out];
    args.extend_from_slice(extra);
    openssl(dir, &args);
}
