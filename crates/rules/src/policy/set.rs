//! A set of loaded policies (built in, or a folder) and which one applies to a tip.

#[allow(unused_imports)]
use super::*;

pub(super) const BUILT_IN: [(&str, &str); 3] = [
    (
        "config/rewards/default.toml",
        include_str!("../../../../config/rewards/default.toml"),
    ),
    (
        "config/rewards/fujian-2024.toml",
        include_str!("../../../../config/rewards/fujian-2024.toml"),
    ),
    (
        "config/rewards/sichuan-2023.toml",
        include_str!("../../../../config/rewards/sichuan-2023.toml"),
    ),
];

/// All loaded policies; `(id, version)` is unique.
#[derive(Debug, Clone, Default, Serialize)]
pub struct PolicySet {
    policies: Vec<Policy>,
}

impl PolicySet {
    /// The three policies shipped in `config/rewards/`, compiled into the binary.
    pub fn built_in() -> Result<PolicySet, PolicyError> {
        PolicySet::from_sources(BUILT_IN.iter().copied())
    }

    /// Loads every `*.toml` file in `dir` (not recursive), in file-name order.
    pub fn load_dir(dir: impl AsRef<Path>) -> Result<PolicySet, PolicyError> {
        let files = crate::dated::read_toml_dir(dir.as_ref())
            .map_err(|(file, source)| PolicyError::Io { file, source })?;
        PolicySet::from_sources(files.iter().map(|(f, t)| (f.as_str(), t.as_str())))
    }

    /// Builds a set from `(file name, TOML text)` pairs; rejects a repeated `(id, version)`.
    pub fn from_sources<'a>(
        sources: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<PolicySet, PolicyError> {
        let policies =
            crate::dated::parse_all(sources, Policy::from_toml_str, |file, other, p| {
                PolicyError::Duplicate {
                    file: file.to_string(),
                    other: other.to_string(),
                    id: p.id.clone(),
                    version: p.version,
                }
            })?;
        Ok(PolicySet { policies })
    }

    pub fn policies(&self) -> &[Policy] {
        &self.policies
    }

    pub fn get(&self, id: &str, version: u32) -> Option<&Policy> {
        self.policies
            .iter()
            .find(|p| p.id == id && p.version == version)
    }

    /// The policy for a tip from `region_code` received on `receipt_date`: among the policies
    /// in force that day whose region covers the code, the most specific region (longest
    /// prefix) wins; ties go to the highest version, then the latest `effective_from`, then
    /// the smallest id. `None` if the code is not 6 digits or nothing covers it.
    pub fn select(&self, region_code: &str, receipt_date: NaiveDate) -> Option<&Policy> {
        crate::dated::select(&self.policies, region_code, receipt_date)
    }
}
