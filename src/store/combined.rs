//! PostgreSQL: the multi-row inserts of one write, sent as **one** statement.
//!
//! Intake writes a batch of tips into about ten tables. As `INSERT … VALUES` statements
//! (in power-of-two chunks, so their shapes stay few) that was some thirty round trips
//! per batch, and on PostgreSQL each one costs a wake-up of the server process and of the
//! client. [`Combined`] wraps a transaction's [`Exec`] and holds back its inserts
//! ([`Exec::insert_values`]); the next other statement, or [`Combined::flush`], sends them
//! all as one statement:
//!
//! ```sql
//! WITH p0 AS (INSERT INTO reports (id, …) SELECT u.c0, … FROM UNNEST($1::text[], …) AS u(c0, …)),
//!      p1 AS (INSERT INTO clocks (…) SELECT … FROM UNNEST(…) AS u(…))
//! INSERT INTO report_events (…) SELECT … FROM UNNEST(…) AS u(…)
//! ```
//!
//! Each column travels as one array (a text parameter in PostgreSQL's array syntax, cast on
//! the server), whatever the number of rows, so the statement's text depends only on which
//! tables and which all-empty columns it has. Foreign keys are checked at the end of the
//! statement, when every table's rows are in. SQLite's native writer has no round trips to
//! save and is never wrapped.

use futures_util::future::BoxFuture;

use super::exec::{Arg, Exec, Row};

/// One held-back insert: the table and columns, and each column's values.
struct Part {
    /// `INSERT INTO t (a, b, …)`, without `VALUES`.
    into: &'static str,
    columns: Vec<Column>,
}

enum Column {
    /// Every row's value is NULL (no array: its type is the column's).
    Null,
    /// `literal` is the PostgreSQL array literal of the values, cast to `ty[]`.
    Array { ty: &'static str, literal: String },
}

/// An [`Exec`] whose inserts are held back and sent together (see the module's comment).
pub struct Combined<'e> {
    ex: &'e mut dyn Exec,
    parts: Vec<Part>,
}

impl<'e> Combined<'e> {
    pub fn new(ex: &'e mut dyn Exec) -> Self {
        Self {
            ex,
            parts: Vec::new(),
        }
    }

    /// Send the inserts held back so far, as one statement.
    pub async fn flush(&mut self) -> sqlx::Result<()> {
        if self.parts.is_empty() {
            return Ok(());
        }
        let parts = std::mem::take(&mut self.parts);
        let (sql, params) = statement(parts);
        let args = params.into_iter().map(Arg::from).collect();
        self.ex.run(&sql, args).await?;
        Ok(())
    }
}

/// The statement of `parts` and its parameters (their array literals, moved), in order.
fn statement(parts: Vec<Part>) -> (String, Vec<String>) {
    let count = parts.len();
    let mut sql = String::new();
    let mut params = Vec::new();
    for (i, part) in parts.into_iter().enumerate() {
        let last = i + 1 == count;
        if !last {
            sql.push_str(if i == 0 { "WITH " } else { ", " });
            sql.push_str(&format!("p{i} AS ("));
        } else if i > 0 {
            sql.push(' ');
        }
        let (mut select, mut arrays, mut names) = (Vec::new(), Vec::new(), Vec::new());
        for (c, column) in part.columns.into_iter().enumerate() {
            match column {
                Column::Null => select.push("NULL".to_string()),
                Column::Array { ty, literal } => {
                    params.push(literal);
                    select.push(format!("u.c{c}"));
                    arrays.push(format!("${}::{ty}[]", params.len()));
                    names.push(format!("c{c}"));
                }
            }
        }
        sql.push_str(&format!(
            "{} SELECT {} FROM UNNEST({}) AS u({})",
            part.into,
            select.join(", "),
            arrays.join(", "),
            names.join(", ")
        ));
        if !last {
            sql.push(')');
        }
    }
    (sql, params)
}

/// The columns of `rows` rows of `cols` values each, or `None` when a column mixes kinds
/// of value or every column is all NULL (such an insert is sent as it is).
fn columns(args: &[Arg<'_>], cols: usize) -> Option<Vec<Column>> {
    let rows = args.len() / cols;
    let mut out = Vec::with_capacity(cols);
    for c in 0..cols {
        let values = (0..rows).map(|r| &args[r * cols + c]);
        let ty = values.clone().find_map(|a| match a {
            Arg::Int(Some(_)) => Some("int8"),
            Arg::Text(Some(_)) => Some("text"),
            Arg::Blob(Some(_)) => Some("bytea"),
            _ => None,
        });
        let Some(ty) = ty else {
            out.push(Column::Null);
            continue;
        };
        let mut literal = String::from("{");
        for (r, a) in values.enumerate() {
            if r > 0 {
                literal.push(',');
            }
            match (ty, a) {
                (_, Arg::Int(None) | Arg::Text(None) | Arg::Blob(None)) => literal.push_str("NULL"),
                ("int8", Arg::Int(Some(v))) => literal.push_str(&v.to_string()),
                ("text", Arg::Text(Some(s))) => quote(&mut literal, s),
                ("bytea", Arg::Blob(Some(b))) => {
                    literal.push_str("\"\\\\x");
                    literal.push_str(&hex::encode(b));
                    literal.push('"');
                }
                _ => return None,
            }
        }
        literal.push('}');
        out.push(Column::Array { ty, literal });
    }
    out.iter()
        .any(|c| matches!(c, Column::Array { .. }))
        .then_some(out)
}

/// `s` as a quoted element of an array literal: `"` and `\` are escaped with `\`.
fn quote(out: &mut String, s: &str) {
    out.push('"');
    for ch in s.chars() {
        if ch == '"' || ch == '\\' {
            out.push('\\');
        }
        out.push(ch);
    }
    out.push('"');
}

impl Exec for Combined<'_> {
    fn is_sqlite(&self) -> bool {
        self.ex.is_sqlite()
    }

    fn run<'a>(&'a mut self, sql: &'a str, args: Vec<Arg<'a>>) -> BoxFuture<'a, sqlx::Result<u64>> {
        Box::pin(async move {
            self.flush().await?;
            self.ex.run(sql, args).await
        })
    }

    fn fetch_rows<'a>(
        &'a mut self,
        sql: &'a str,
        args: Vec<Arg<'a>>,
    ) -> BoxFuture<'a, sqlx::Result<Vec<Row>>> {
        Box::pin(async move {
            self.flush().await?;
            self.ex.fetch_rows(sql, args).await
        })
    }

    fn insert_values<'a>(
        &'a mut self,
        head: &'static str,
        cols: usize,
        args: Vec<Arg<'a>>,
    ) -> BoxFuture<'a, sqlx::Result<()>> {
        Box::pin(async move {
            if args.is_empty() {
                return Ok(());
            }
            let into = head.trim_end().strip_suffix("VALUES").map(str::trim_end);
            match (into, columns(&args, cols.max(1))) {
                (Some(into), Some(columns)) => {
                    self.parts.push(Part { into, columns });
                    Ok(())
                }
                _ => {
                    self.flush().await?;
                    self.ex.insert_values(head, cols, args).await
                }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(s: &str) -> Arg<'_> {
        Arg::from(s)
    }

    /// The array literals follow PostgreSQL's syntax: quoted, escaped elements and NULLs.
    #[test]
    fn columns_become_array_literals() {
        let blob: &[u8] = &[0xde, 0xad];
        let args = vec![
            text("a\"b\\c"),
            Arg::Int(Some(-3)),
            Arg::Blob(Some(blob)),
            Arg::Text(None),
            Arg::Text(None),
            Arg::Int(None),
            Arg::Blob(None),
            Arg::Text(None),
        ];
        let cols = columns(&args, 4).unwrap();
        let lit = |c: &Column| match c {
            Column::Array { ty, literal } => format!("{ty}:{literal}"),
            Column::Null => "null".into(),
        };
        let got: Vec<String> = cols.iter().map(lit).collect();
        assert_eq!(
            got,
            [
                r#"text:{"a\"b\\c",NULL}"#,
                "int8:{-3,NULL}",
                r#"bytea:{"\\xdead",NULL}"#,
                "null"
            ]
        );
    }

    /// A column that mixes kinds of value is not combined (it is sent as it is).
    #[test]
    fn a_column_of_mixed_kinds_is_not_combined() {
        let args = vec![Arg::Int(Some(1)), text("1")];
        assert!(columns(&args, 1).is_none());
    }

    #[test]
    fn parts_become_one_statement_with_numbered_arrays() {
        let parts = vec![
            Part {
                into: "INSERT INTO a (x, y)",
                columns: vec![
                    Column::Array {
                        ty: "text",
                        literal: "{\"1\"}".into(),
                    },
                    Column::Null,
                ],
            },
            Part {
                into: "INSERT INTO b (z)",
                columns: vec![Column::Array {
                    ty: "int8",
                    literal: "{2}".into(),
                }],
            },
        ];
        let (sql, params) = statement(parts);
        assert_eq!(
            sql,
            "WITH p0 AS (INSERT INTO a (x, y) SELECT u.c0, NULL FROM UNNEST($1::text[]) AS u(c0)) \
             INSERT INTO b (z) SELECT u.c0 FROM UNNEST($2::int8[]) AS u(c0)"
        );
        assert_eq!(params, ["{\"1\"}", "{2}"]);
    }
}
