//! Checks shared by the sanitizer tests: the secrets a fixture carries, a byte
//! search for them in every encoding a format may use, and exiftool as an
//! independent reader of what metadata is left.

use serde_json::{Map, Value};

/// The reporter's name, phone and a GPS position, and a device serial number:
/// what the fixtures hide in metadata and the working copies must not contain.
pub const NAME: &str = "张三";
pub const PHONE: &str = "13800138000";
pub const LATITUDE: &str = "31.2304";
pub const LONGITUDE: &str = "121.4737";
pub const SERIAL: &str = "SN4C2F9A77";
pub const SECRETS: &[&str] = &[NAME, PHONE, LATITUDE, LONGITUDE, SERIAL];

/// Tag names (after exiftool's `Group:`) that no working copy may carry.
const FORBIDDEN_TAGS: &[&str] = &[
    "Author",
    "Creator",
    "Producer",
    "Title",
    "Subject",
    "Keywords",
    "Artist",
    "Album",
    "Comment",
    "Description",
    "Make",
    "Model",
    "Software",
    "SerialNumber",
    "GPSCoordinates",
    "GPSLatitude",
    "GPSLongitude",
    "GPSPosition",
    "Copyright",
    "LastModifiedBy",
    "Company",
    "Manager",
    "Originator",
    "DocumentID",
    "InstanceID",
    "Encoder",
    "EncodedBy",
    "Location",
    "TagString",
    "AttachedFileName",
];

/// exiftool groups (`-G1`) that are metadata containers as a whole.
const FORBIDDEN_GROUPS: &[&str] = &[
    "XMP", "ID3", "APE", "Lyrics3", "UserData", "ItemList", "Keys",
];

/// Panics when any secret occurs in `bytes` as UTF-8, UTF-16 (either byte
/// order; PDF text strings and ID3 frames use them) or, for the digits, at all.
pub fn assert_no_secret_bytes(bytes: &[u8], what: &str) {
    for secret in SECRETS {
        let utf16be: Vec<u8> = secret.encode_utf16().flat_map(u16::to_be_bytes).collect();
        let utf16le: Vec<u8> = secret.encode_utf16().flat_map(u16::to_le_bytes).collect();
        for needle in [secret.as_bytes(), utf16be.as_slice(), utf16le.as_slice()] {
            assert!(
                !bytes.windows(needle.len()).any(|w| w == needle),
                "{what}: the working copy still contains {secret:?}"
            );
        }
    }
}

/// Panics unless every secret is in `bytes` (as UTF-8 or UTF-16): a fixture
/// must carry what the test says it removes.
pub fn assert_carries_secrets(bytes: &[u8], secrets: &[&str], what: &str) {
    for secret in secrets {
        let utf16be: Vec<u8> = secret.encode_utf16().flat_map(u16::to_be_bytes).collect();
        let found = [secret.as_bytes(), utf16be.as_slice()]
            .iter()
            .any(|needle| bytes.windows(needle.len()).any(|w| w == *needle));
        assert!(found, "{what}: the fixture does not carry {secret:?}");
    }
}

/// The tags exiftool reads from `bytes` (`-j -a -G1`, without its own
/// `System`, `File` and `ExifTool` groups), or `None` when exiftool is not
/// installed (then outside CI the caller leaves that part out; under
/// `CI=true` this panics with the install command, tests/support/tools.rs).
pub fn exiftool_tags(bytes: &[u8], name: &str) -> Option<Map<String, Value>> {
    exiftool(bytes, name, &[])
}

/// Runs exiftool on a copy of `bytes` named `name` with `args`, checks that it
/// exited 0, and returns the tags it printed as JSON.
pub fn exiftool(bytes: &[u8], name: &str, args: &[&str]) -> Option<Map<String, Value>> {
    let part = "the exiftool checks in evidence::*_tests";
    let mode = ["-j", "-a", "-G1", "-charset", "filename=utf8"];
    let (out, _) = run_exiftool(part, bytes, name, &mode, args)?;
    let json: Value = serde_json::from_slice(&out.stdout).expect("exiftool prints JSON");
    let Some(Value::Object(tags)) = json.get(0).cloned() else {
        panic!("exiftool printed no object for {name}: {json}");
    };
    Some(
        tags.into_iter()
            .filter(|(key, _)| {
                !["System:", "File:", "ExifTool:", "SourceFile"]
                    .iter()
                    .any(|skip| key.starts_with(skip))
            })
            .collect(),
    )
}

/// Panics when exiftool finds a forbidden tag, a forbidden group, or a secret
/// in any value; returns the tags so a test can check format-specific ones.
/// Skipped (returns `None`) where [`exiftool_tags`] is.
pub fn assert_exiftool_clean(bytes: &[u8], name: &str) -> Option<Map<String, Value>> {
    let tags = exiftool_tags(bytes, name)?;
    for (key, value) in &tags {
        let (group, tag) = key.split_once(':').unwrap_or(("", key));
        assert!(
            !FORBIDDEN_GROUPS.iter().any(|g| group.starts_with(g)),
            "{name}: exiftool still reads the {group} group ({key} = {value})"
        );
        let tag_is_forbidden = FORBIDDEN_TAGS.contains(&tag);
        let empty = value
            .as_str()
            .is_some_and(|s| s.trim_matches('\0').is_empty());
        assert!(
            !tag_is_forbidden || empty,
            "{name}: exiftool still reads {key} = {value}"
        );
        let text = value.to_string();
        for secret in SECRETS {
            assert!(
                !text.contains(secret),
                "{name}: exiftool reads {secret:?} in {key} = {value}"
            );
        }
    }
    Some(tags)
}

/// Writes metadata into `bytes` with exiftool (`args` such as `-Artist=张三`)
/// and returns the rewritten file, or `None` without exiftool.
pub fn exiftool_write(bytes: &[u8], name: &str, args: &[&str]) -> Option<Vec<u8>> {
    let part = "the exiftool fixtures in evidence::*_tests";
    let mode = ["-overwrite_original", "-charset", "filename=utf8"];
    let (_, written) = run_exiftool(part, bytes, name, &mode, args)?;
    Some(written)
}

/// Runs exiftool with `mode` and `args` on a copy of `bytes` named `name` in a temporary
/// directory, asserts that it exited 0, and returns its output and the file as it is
/// afterwards; `None` (after the tools rule's SKIPPED line) without exiftool.
fn run_exiftool(
    part: &str,
    bytes: &[u8],
    name: &str,
    mode: &[&str],
    args: &[&str],
) -> Option<(std::process::Output, Vec<u8>)> {
    if !crate::test_tools::need(part, &[crate::test_tools::EXIFTOOL]) {
        return None;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join(name);
    std::fs::write(&path, bytes).expect("write temp file");
    let out = std::process::Command::new("exiftool")
        .args(mode)
        .args(args)
        .arg(&path)
        .output()
        .expect("run exiftool");
    assert!(
        out.status.success(),
        "exiftool failed on {name}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let after = std::fs::read(&path).expect("read back");
    Some((out, after))
}

/// Runs `sanitize` on 300 mutations of `base` (bytes overwritten, the tail
/// cut, size fields blown up to 0xFFFFFFFF, bytes swapped) and fails if any
/// run panics. Production code runs sanitizers under a panic guard, which
/// would hide such a panic as "held sealed"; this makes it visible.
pub fn never_panics(base: &[u8], sanitize: impl Fn(&[u8])) {
    let mut rng = super::image_fixtures::XorShift(0x9E37_79B9_7F4A_7C15);
    for round in 0..300 {
        let mut bytes = base.to_vec();
        let at = rng.below(bytes.len());
        match rng.below(4) {
            0 => {
                for _ in 0..=rng.below(8) {
                    let i = rng.below(bytes.len());
                    bytes[i] = rng.next() as u8;
                }
            }
            1 => bytes.truncate(at),
            2 => bytes[at..].iter_mut().take(4).for_each(|b| *b = 0xFF),
            _ => bytes.swap(at, rng.below(base.len())),
        }
        let run = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| sanitize(&bytes)));
        assert!(run.is_ok(), "round {round}: the sanitizer panicked");
    }
}
