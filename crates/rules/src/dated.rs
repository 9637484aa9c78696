//! Which of several regional, dated, versioned data sets applies (reward policies, triage
//! weights): the one rule, so that every kind of policy data is chosen the same way.

use std::path::Path;

use chrono::NaiveDate;

/// Policy data that applies to a region from a date.
pub trait Dated {
    fn id(&self) -> &str;
    fn version(&self) -> u32;
    /// The region's prefix (`""` for national, `"37"` for a province, …).
    fn region_prefix(&self) -> &str;
    fn effective_from(&self) -> NaiveDate;
    fn effective_to(&self) -> Option<NaiveDate>;
}

/// `impl Dated` for policy data with the fields `id`, `version`, `region` (a 6-digit code),
/// `effective_from` and `effective_to`.
macro_rules! dated_by_fields {
    ($t:ty) => {
        impl $crate::dated::Dated for $t {
            fn id(&self) -> &str {
                &self.id
            }
            fn version(&self) -> u32 {
                self.version
            }
            fn region_prefix(&self) -> &str {
                $crate::domain::region::region_prefix(&self.region)
            }
            fn effective_from(&self) -> chrono::NaiveDate {
                self.effective_from
            }
            fn effective_to(&self) -> Option<chrono::NaiveDate> {
                self.effective_to
            }
        }
    };
}
pub(crate) use dated_by_fields;

/// Whether `code` is a 6-digit region code.
pub(crate) fn is_region_code(code: &str) -> bool {
    code.len() == 6 && code.bytes().all(|b| b.is_ascii_digit())
}

/// Among the items in force on `date` whose region covers `region_code`, the most specific
/// region (longest prefix) wins; ties go to the highest version, then the latest
/// `effective_from`, then the smallest id. `None` if the code is not 6 digits or nothing
/// covers it.
pub fn select<'a, T: Dated>(
    items: impl IntoIterator<Item = &'a T>,
    region_code: &str,
    date: NaiveDate,
) -> Option<&'a T> {
    if !is_region_code(region_code) {
        return None;
    }
    items
        .into_iter()
        .filter(|p| {
            region_code.starts_with(p.region_prefix())
                && date >= p.effective_from()
                && p.effective_to().map_or(true, |to| date <= to)
        })
        .max_by(|a, b| {
            a.region_prefix()
                .len()
                .cmp(&b.region_prefix().len())
                .then(a.version().cmp(&b.version()))
                .then(a.effective_from().cmp(&b.effective_from()))
                .then_with(|| b.id().cmp(a.id()))
        })
}

/// The `*.toml` files of a policy folder (not recursive) as `(file name, text)` pairs, in
/// file-name order; an error names the file or folder that could not be read.
pub fn read_toml_dir(dir: &Path) -> Result<Vec<(String, String)>, (String, std::io::Error)> {
    fn named(p: &Path) -> impl Fn(std::io::Error) -> (String, std::io::Error) + '_ {
        move |e| (p.display().to_string(), e)
    }
    let mut paths = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(named(dir))? {
        let path = entry.map_err(named(dir))?.path();
        if path.extension().is_some_and(|e| e == "toml") && path.is_file() {
            paths.push(path);
        }
    }
    paths.sort();
    paths
        .into_iter()
        .map(|path| {
            let text = std::fs::read_to_string(&path).map_err(named(&path))?;
            Ok((path.display().to_string(), text))
        })
        .collect()
}

/// The positions `(earlier, later)` of the first item whose `(id, version)` an earlier item
/// already has.
pub fn repeated<T: Dated>(items: &[T]) -> Option<(usize, usize)> {
    items.iter().enumerate().find_map(|(later, l)| {
        items[..later]
            .iter()
            .position(|o| o.id() == l.id() && o.version() == l.version())
            .map(|earlier| (earlier, later))
    })
}

/// Parses `(file name, TOML text)` pairs with `parse`, in order. The first item whose
/// `(id, version)` an earlier file already has is refused with `twice(its file, the
/// earlier file, the item)`: the one loading rule of every kind of policy data.
pub fn parse_all<'a, T: Dated, E>(
    sources: impl IntoIterator<Item = (&'a str, &'a str)>,
    parse: impl Fn(&str, &str) -> Result<T, E>,
    twice: impl FnOnce(&str, &str, &T) -> E,
) -> Result<Vec<T>, E> {
    let mut files = Vec::new();
    let mut items = Vec::new();
    for (file, text) in sources {
        items.push(parse(file, text)?);
        files.push(file);
    }
    match repeated(&items) {
        Some((earlier, later)) => Err(twice(files[later], files[earlier], &items[later])),
        None => Ok(items),
    }
}
