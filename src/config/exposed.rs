//! Secrets that must not face a network: the demo values shipped in `config/jubao.toml`,
//! and any secret shorter than 16 bytes, stop start-up when the listener is not a loopback
//! address, naming the key. On loopback (a developer's machine, the tests) they are fine.

use std::net::{IpAddr, SocketAddr};

use anyhow::bail;

use super::{Config, Secret};

/// The secrets the shipped configuration carries (CONTRACT: replace before going live).
const DEMO_SECRETS: &[&str] = &[
    "demo-token-change-me",
    "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG",
    "demo-appsecret-change-me",
    "demo-secret-change-me",
    "demo-hotline-secret-change-me",
];

const MIN_SECRET_BYTES: usize = 16;

/// Whether `listen` (`host:port`) only accepts connections from this machine.
pub fn is_loopback(listen: &str) -> bool {
    if let Ok(addr) = listen.parse::<SocketAddr>() {
        return addr.ip().is_loopback();
    }
    let host = listen.rsplit_once(':').map_or(listen, |(h, _)| h);
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// Every configured secret with the key that names it.
fn secrets(c: &Config) -> Vec<(String, &Secret)> {
    let mut out = vec![];
    for a in &c.wechat {
        let k = |f: &str| format!("[[wechat]] account `{}`: {f}", a.account);
        out.push((k("token"), &a.token));
        out.extend(
            a.encoding_aes_key
                .iter()
                .map(|s| (k("encoding_aes_key"), s)),
        );
        out.extend(a.appsecret.iter().map(|s| (k("appsecret"), s)));
    }
    for a in &c.wecom {
        let k = |f: &str| format!("[[wecom]] account `{}`: {f}", a.account);
        out.push((k("token"), &a.token));
        out.push((k("encoding_aes_key"), &a.encoding_aes_key));
        out.extend(a.secret.iter().map(|s| (k("secret"), s)));
    }
    for h in &c.hotline {
        let k = |f: &str| format!("[[hotline]] source `{}`: {f}", h.source);
        out.push((k("secret"), &h.secret));
        out.extend(h.previous_secret.iter().map(|s| (k("previous_secret"), s)));
    }
    if c.sms.enabled() {
        out.push(("[sms] secret".to_string(), &c.sms.secret));
    }
    for r in &c.robots {
        let k = |f: &str| format!("[[robots]] `{}`: {f}", r.label());
        out.push((k("url"), &r.url));
        out.extend(r.secret.iter().map(|s| (k("secret"), s)));
    }
    out
}

/// Refuse demo or short secrets on a listener that is not loopback.
pub fn check(c: &Config) -> anyhow::Result<()> {
    if is_loopback(&c.server.listen) {
        return Ok(());
    }
    for (key, secret) in secrets(c) {
        if DEMO_SECRETS.contains(&secret.expose()) {
            bail!(
                "{key} is the demo value shipped in config/jubao.toml; set a secret of your own \
                 before listening on {} (docs/bots.md, docs/hotline.md)",
                c.server.listen
            );
        }
        if secret.expose().len() < MIN_SECRET_BYTES {
            bail!(
                "{key} is shorter than {MIN_SECRET_BYTES} bytes: too easy to guess for a \
                 service listening on {}",
                c.server.listen
            );
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHIPPED: &str = include_str!("../../config/jubao.toml");

    #[test]
    fn loopback_listeners() {
        for l in [
            "127.0.0.1:8080",
            "[::1]:8080",
            "localhost:8080",
            "127.0.0.2:1",
        ] {
            assert!(is_loopback(l), "{l}");
        }
        for l in [
            "0.0.0.0:8080",
            "[::]:8080",
            "10.0.0.5:80",
            "jubao.example:80",
        ] {
            assert!(!is_loopback(l), "{l}");
        }
    }

    #[test]
    fn shipped_demo_secrets_refused_on_every_address() {
        let mut c = Config::from_toml_and_env(SHIPPED, &[]).unwrap();
        c.server.listen = "0.0.0.0:8080".into();
        let e = check(&c).unwrap_err().to_string();
        assert!(e.contains("demo value") && e.contains("token"), "{e}");
        c.server.listen = "127.0.0.1:8080".into();
        check(&c).unwrap();
    }

    #[test]
    fn short_secrets_refused() {
        let mut c = Config::from_toml_and_env(SHIPPED, &[]).unwrap();
        for a in &mut c.wechat {
            a.token = "a-real-long-token-0001".into();
            a.encoding_aes_key = Some("Zbcdefghijklmnopqrstuvwxyz0123456789ABCDEFG".into());
            a.appsecret = Some("short".into());
        }
        c.wecom.clear();
        c.hotline.clear();
        c.server.listen = "0.0.0.0:8080".into();
        let e = check(&c).unwrap_err().to_string();
        assert!(
            e.contains("appsecret") && e.contains("shorter than 16"),
            "{e}"
        );
    }
}
