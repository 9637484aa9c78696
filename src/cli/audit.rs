//! `jubao audit verify` and `jubao audit anchor` (docs/audit.md).

use crate::config::Config;

use super::open_vault;

pub async fn verify(config: Config, anchor: Option<&std::path::Path>) -> anyhow::Result<()> {
    use crate::audit::{self, Anchor};
    // The file is read and its signature checked before anything else (an altered anchor
    // fails here whatever the log holds); `verify` checks it against this vault's key.
    let anchor = anchor.map(Anchor::read).transpose()?;
    if let Some(a) = &anchor {
        anyhow::ensure!(
            a.signature_ok(),
            "anchor of entry {} (signed at {}): its signature does not verify (it was changed)",
            a.seq,
            a.at
        );
    }
    let vault = open_vault(&config, 2).await?;
    let bar = indicatif::ProgressBar::new(0);
    bar.set_style(
        indicatif::ProgressStyle::with_template("verifying {bar:40} {pos}/{len} entries")
            .expect("valid template"),
    );
    let v = audit::verify(
        vault.db(),
        vault.audit_key(),
        anchor.as_ref(),
        |done, total| {
            bar.set_length(total.max(0) as u64);
            bar.set_position(done.max(0) as u64);
        },
    )
    .await?;
    bar.finish_and_clear();
    match v.first_broken {
        None => {
            println!(
                "audit log intact: {} entries, chain verified{}{}",
                v.entries,
                match v.plain_entries {
                    0 => String::new(),
                    n => format!(
                        "; entries 1-{n} predate the keyed chain (plain SHA-256, pinned by \
                         anchors taken since)"
                    ),
                },
                match (&anchor, v.anchors) {
                    (Some(a), n) => format!(
                        "; anchor of entry {} (signed at {}) matches; {n} anchors checked",
                        a.seq, a.at
                    ),
                    (None, n) => format!("; {n} stored anchors checked"),
                }
            );
            Ok(())
        }
        Some(seq) => anyhow::bail!(
            "audit log broken at entry {seq}: {}",
            v.problem.unwrap_or_default()
        ),
    }
}

pub async fn anchor(config: Config, out: &std::path::Path) -> anyhow::Result<()> {
    let vault = open_vault(&config, 2).await?;
    let a = crate::audit::anchor::take(vault.db(), vault.audit_key()).await?;
    a.write(out)?;
    println!(
        "audit log anchored: entry {} of {} entries, chain {}, signed at {} (public key {}); \
         written to {}",
        a.seq,
        a.entries,
        a.chain,
        a.at,
        a.public_key,
        out.display()
    );
    Ok(())
}
