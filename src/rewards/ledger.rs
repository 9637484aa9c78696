//! The lead ledger (线索台账, Ganzhou 2022): one row per tip with its receipt, channel,
//! categories, target, status, deadlines met, decision, verified and recovered amounts and
//! reward — `jubao export ledger` (CONTRACT §1) as CSV or XLSX.
//!
//! Streaming: rows are read in pages by primary key (UUIDv7, so in order of receipt) and
//! written as they come, so memory stays flat whatever the number of cases. The XLSX file is
//! written part by part into a zip: the worksheet uses inline strings (no shared-string
//! table to hold in memory). No identity is read, so none can be exported: the reporter
//! appears only as "anonymous" or "real-name".

use std::io::{Seek, Write};

use chrono::NaiveDate;
use sqlx::Row;

use crate::store::Db;

/// Column headings, in order (zh-CN as the ledger is kept; amounts in fen).
pub const COLUMNS: [&str; 17] = [
    "案件编号",
    "受理登记时间",
    "渠道",
    "问题类别",
    "被举报对象",
    "对象类型",
    "地区",
    "举报人",
    "状态",
    "时限按时",
    "时限超时",
    "时限在办逾期",
    "处理结论",
    "查实金额(分)",
    "追回金额(分)",
    "奖励金额(分)",
    "奖励状态",
];

/// Rows fetched per page.
pub const PAGE: i64 = 2000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Csv,
    Xlsx,
}

impl Format {
    pub fn parse(s: &str) -> Option<Format> {
        match s.to_ascii_lowercase().as_str() {
            "csv" => Some(Format::Csv),
            "xlsx" => Some(Format::Xlsx),
            _ => None,
        }
    }
}

/// Which tips: received on `from`..=`to` (Asia/Shanghai dates), both optional.
#[derive(Debug, Clone, Copy, Default)]
pub struct Range {
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
}

impl Range {
    fn bounds(&self) -> (String, String) {
        let lo = self
            .from
            .map(crate::deadlines::day_start_utc)
            .unwrap_or_default();
        let hi = self
            .to
            .and_then(|d| d.succ_opt())
            .map(crate::deadlines::day_start_utc)
            .unwrap_or_else(|| "9999".into());
        (lo, hi)
    }
}

/// One ledger row: text cells and integer cells.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cell {
    Text(String),
    Int(i64),
    Empty,
}

impl Cell {
    fn csv(&self) -> String {
        match self {
            Cell::Text(s) => inert(s),
            Cell::Int(n) => n.to_string(),
            Cell::Empty => String::new(),
        }
    }
}

/// A text cell a spreadsheet will not run: one that starts with `=`, `+`, `-`, `@`, a tab
/// or a carriage return (a formula to Excel, WPS and LibreOffice) gets a leading `'`, as
/// OWASP's advice on CSV injection has it. Numbers are written as numbers, so a negative
/// amount is never mistaken for text.
fn inert(s: &str) -> String {
    if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{s}")
    } else {
        s.to_string()
    }
}

/// Count the rows an export will write (for the progress bar).
pub async fn count(db: &Db, range: Range) -> anyhow::Result<u64> {
    let (lo, hi) = range.bounds();
    let n: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM reports WHERE received_at >= $1 AND received_at < $2",
    )
    .bind(lo)
    .bind(hi)
    .fetch_one(&db.pool)
    .await?;
    Ok(u64::try_from(n).unwrap_or(0))
}

const SELECT: &str = "SELECT r.id, r.received_at, r.channel, r.categories, r.target_name, \
    r.target_kind, r.case_region, r.anonymous, r.status, r.decision, r.verified_fen, \
    r.recovered_fen, \
    (SELECT COUNT(*) FROM clocks c WHERE c.report_id = r.id AND c.outcome = 'met') AS met, \
    (SELECT COUNT(*) FROM clocks c WHERE c.report_id = r.id AND c.outcome = 'missed') AS missed, \
    (SELECT COUNT(*) FROM clocks c WHERE c.report_id = r.id AND c.closed_at IS NULL \
        AND c.due_on < $4) AS overdue, \
    w.amount_fen AS reward_fen, w.status AS reward_status \
    FROM reports r LEFT JOIN rewards w ON w.report_id = r.id \
    WHERE r.id > $1 AND r.received_at >= $2 AND r.received_at < $3 \
    ORDER BY r.id LIMIT $5";

/// Read the ledger page after `after` (an id; "" for the first).
async fn page(
    db: &Db,
    after: &str,
    range: (&str, &str),
    today: &str,
) -> anyhow::Result<Vec<(String, Vec<Cell>)>> {
    let rows = sqlx::query(SELECT)
        .bind(after)
        .bind(range.0)
        .bind(range.1)
        .bind(today)
        .bind(PAGE)
        .fetch_all(&db.pool)
        .await?;
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        let id: String = row.try_get("id")?;
        let text = |s: Option<String>| s.map_or(Cell::Empty, Cell::Text);
        let int = |n: Option<i64>| n.map_or(Cell::Empty, Cell::Int);
        let anonymous: i64 = row.try_get("anonymous")?;
        let cells = vec![
            Cell::Text(id.clone()),
            Cell::Text(row.try_get("received_at")?),
            Cell::Text(row.try_get("channel")?),
            Cell::Text(row.try_get("categories")?),
            Cell::Text(row.try_get("target_name")?),
            Cell::Text(row.try_get("target_kind")?),
            Cell::Text(row.try_get("case_region")?),
            Cell::Text(if anonymous != 0 { "匿名" } else { "实名" }.into()),
            Cell::Text(row.try_get("status")?),
            Cell::Int(row.try_get("met")?),
            Cell::Int(row.try_get("missed")?),
            Cell::Int(row.try_get("overdue")?),
            text(row.try_get("decision")?),
            int(row.try_get("verified_fen")?),
            int(row.try_get("recovered_fen")?),
            int(row.try_get("reward_fen")?),
            text(row.try_get("reward_status")?),
        ];
        out.push((id, cells));
    }
    Ok(out)
}

/// Something that takes ledger rows one at a time.
trait Sink {
    fn row(&mut self, cells: &[Cell]) -> anyhow::Result<()>;
    fn finish(self: Box<Self>) -> anyhow::Result<()>;
}

struct CsvSink<W: Write>(csv::Writer<W>);

impl<W: Write> Sink for CsvSink<W> {
    fn row(&mut self, cells: &[Cell]) -> anyhow::Result<()> {
        self.0.write_record(cells.iter().map(Cell::csv))?;
        Ok(())
    }
    fn finish(mut self: Box<Self>) -> anyhow::Result<()> {
        self.0.flush()?;
        Ok(())
    }
}

/// A one-sheet workbook written as a stream of XML into a zip.
pub struct XlsxSink<W: Write + Seek> {
    zip: zip::ZipWriter<W>,
    rows: u64,
}

const CONTENT_TYPES: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/><Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/></Types>"#;
const ROOT_RELS: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>"#;
const WORKBOOK: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="线索台账" sheetId="1" r:id="rId1"/></sheets></workbook>"#;
const WORKBOOK_RELS: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/></Relationships>"#;
const STYLES: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><fonts count="1"><font><sz val="11"/><name val="Calibri"/></font></fonts><fills count="2"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill></fills><borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders><cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs><cellXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/></cellXfs></styleSheet>"#;

/// Escape text for XML, dropping characters XML 1.0 cannot hold.
fn xml_escape(s: &str, out: &mut String) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => {}
            c => out.push(c),
        }
    }
}

/// The spreadsheet column name of a 0-based index (0 → A, 26 → AA).
fn column_name(mut i: usize) -> String {
    let mut s = Vec::new();
    loop {
        s.push(b'A' + (i % 26) as u8);
        if i < 26 {
            break;
        }
        i = i / 26 - 1;
    }
    s.reverse();
    String::from_utf8(s).unwrap_or_default()
}

impl<W: Write + Seek> XlsxSink<W> {
    pub fn new(out: W) -> anyhow::Result<Self> {
        let mut zip = zip::ZipWriter::new(out);
        let opts = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated);
        for (name, body) in [
            ("[Content_Types].xml", CONTENT_TYPES),
            ("_rels/.rels", ROOT_RELS),
            ("xl/workbook.xml", WORKBOOK),
            ("xl/_rels/workbook.xml.rels", WORKBOOK_RELS),
            ("xl/styles.xml", STYLES),
        ] {
            zip.start_file(name, opts)?;
            zip.write_all(body.as_bytes())?;
        }
        // The sheet may pass 4 GiB uncompressed on very large ledgers: allow ZIP64.
        // The sheet is most of the file: the fastest deflate level keeps the export quick.
        zip.start_file(
            "xl/worksheets/sheet1.xml",
            opts.large_file(true).compression_level(Some(1)),
        )?;
        zip.write_all(
            br#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>"#,
        )?;
        Ok(Self { zip, rows: 0 })
    }
}

impl<W: Write + Seek> Sink for XlsxSink<W> {
    fn row(&mut self, cells: &[Cell]) -> anyhow::Result<()> {
        self.rows += 1;
        let r = self.rows;
        let mut x = format!(r#"<row r="{r}">"#);
        for (i, c) in cells.iter().enumerate() {
            let at = format!("{}{r}", column_name(i));
            match c {
                Cell::Empty => {}
                Cell::Int(n) => x.push_str(&format!(r#"<c r="{at}"><v>{n}</v></c>"#)),
                Cell::Text(s) => {
                    x.push_str(&format!(
                        r#"<c r="{at}" t="inlineStr"><is><t xml:space="preserve">"#
                    ));
                    xml_escape(s, &mut x);
                    x.push_str("</t></is></c>");
                }
            }
        }
        x.push_str("</row>");
        self.zip.write_all(x.as_bytes())?;
        Ok(())
    }
    fn finish(mut self: Box<Self>) -> anyhow::Result<()> {
        self.zip.write_all(b"</sheetData></worksheet>")?;
        let mut inner = self.zip.finish()?;
        inner.flush()?;
        Ok(())
    }
}

/// Write the ledger to `out` in `format`; `progress` is told how many rows are done.
/// Returns the number of data rows.
pub async fn export<W: Write + Seek + 'static>(
    db: &Db,
    out: W,
    format: Format,
    range: Range,
    mut progress: impl FnMut(u64),
) -> anyhow::Result<u64> {
    let mut sink: Box<dyn Sink> = match format {
        Format::Csv => Box::new(CsvSink(csv::Writer::from_writer(out))),
        Format::Xlsx => Box::new(XlsxSink::new(out)?),
    };
    let header: Vec<Cell> = COLUMNS.iter().map(|c| Cell::Text((*c).into())).collect();
    sink.row(&header)?;
    let (lo, hi) = range.bounds();
    let today = crate::deadlines::calendar::shanghai_date(db.now()).to_string();
    let mut after = String::new();
    let mut done = 0u64;
    loop {
        let rows = page(db, &after, (&lo, &hi), &today).await?;
        let Some((last, _)) = rows.last() else { break };
        after = last.clone();
        let n = rows.len();
        for (_, cells) in &rows {
            sink.row(cells)?;
        }
        done += n as u64;
        progress(done);
        if (n as i64) < PAGE {
            break;
        }
    }
    sink.finish()?;
    Ok(done)
}

#[cfg(test)]
mod inert_tests {
    use super::*;

    #[test]
    fn formula_cells_are_made_inert() {
        for evil in [
            "=HYPERLINK(\"http://x\")",
            "+1+1",
            "-2+3",
            "@SUM(A1)",
            "\t=1",
            "\r=1",
        ] {
            let out = Cell::Text(evil.into()).csv();
            assert_eq!(out, format!("'{evil}"));
        }
        assert_eq!(Cell::Text("某某医院".into()).csv(), "某某医院");
        assert_eq!(Cell::Int(-5).csv(), "-5");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn column_names() {
        assert_eq!(column_name(0), "A");
        assert_eq!(column_name(16), "Q");
        assert_eq!(column_name(25), "Z");
        assert_eq!(column_name(26), "AA");
        assert_eq!(column_name(27), "AB");
    }

    #[test]
    fn escapes_xml() {
        let mut s = String::new();
        xml_escape("a<b & \"c\"\u{1}", &mut s);
        assert_eq!(s, "a&lt;b &amp; &quot;c&quot;");
    }
}
