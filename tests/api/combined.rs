//! PostgreSQL's combined insert (`store::combined`): values of every kind come back exactly
//! as written, foreign keys between its tables hold, and a failing one writes nothing.
//! Read back with plain sqlx queries, not through the code under test.

use crate::helpers::*;
use jubao::store::combined::Combined;
use jubao::store::{insert_rows, Arg, Db};

/// Text that array syntax treats specially, and bytes that bytea's escapes do.
const TEXTS: [&str; 8] = [
    "",
    "NULL",
    "a\"b",
    "back\\slash",
    "{braces},comma",
    "  spaced  ",
    "某某县民康医院 😀",
    "\\x00",
];

async fn db() -> Option<(Db, String)> {
    let admin = postgres_admin_url()?;
    let url = fresh_postgres_db(&admin).await;
    let db = Db::connect(&url, 2).await.unwrap();
    for sql in [
        "CREATE TABLE parent (id TEXT PRIMARY KEY, n BIGINT, b BYTEA, note TEXT)",
        "CREATE TABLE child (parent_id TEXT NOT NULL REFERENCES parent (id), k INTEGER)",
    ] {
        sqlx::query(sql).execute(&db.pool).await.unwrap();
    }
    Some((db, url))
}

/// A `parent` row as stored: id, n, b, note.
type ParentRow = (String, Option<i64>, Option<Vec<u8>>, Option<String>);

struct P {
    id: String,
    n: Option<i64>,
    b: Option<Vec<u8>>,
}

fn parents() -> Vec<P> {
    TEXTS
        .iter()
        .enumerate()
        .map(|(i, t)| P {
            id: format!("{t}#{i}"),
            n: (i % 3 != 0).then_some(i64::MIN + i as i64),
            b: (i % 2 == 0).then(|| vec![0, b'\\', b'"', 0xff, i as u8]),
        })
        .collect()
}

async fn write(ex: &mut dyn jubao::store::Exec, ps: &[P], child_of: &[&str]) -> sqlx::Result<()> {
    let mut c = Combined::new(ex);
    insert_rows(
        &mut c,
        "INSERT INTO parent (id, n, b, note) VALUES",
        4,
        ps,
        |v, p| {
            v.extend([
                Arg::from(p.id.as_str()),
                p.n.into(),
                p.b.as_deref().into(),
                Arg::Text(None),
            ])
        },
    )
    .await?;
    let kids: Vec<(&str, i64)> = child_of.iter().map(|id| (*id, 7)).collect();
    insert_rows(
        &mut c,
        "INSERT INTO child (parent_id, k) VALUES",
        2,
        &kids,
        |v, (id, k)| v.extend([Arg::from(*id), Arg::from(*k)]),
    )
    .await?;
    c.flush().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_combined_insert_keeps_every_value_and_key() {
    let Some((db, url)) = db().await else { return };
    let ps = parents();
    let ids: Vec<&str> = ps.iter().map(|p| p.id.as_str()).collect();
    let mut tx = db.begin().await.unwrap();
    write(&mut tx, &ps, &ids).await.unwrap();
    tx.commit().await.unwrap();

    let got: Vec<ParentRow> = sqlx::query_as("SELECT id, n, b, note FROM parent")
        .fetch_all(&db.pool)
        .await
        .unwrap();
    assert_eq!(got.len(), ps.len());
    for p in &ps {
        let row = got.iter().find(|r| r.0 == p.id).unwrap_or_else(|| {
            panic!("{:?} was not stored as written: {got:?}", p.id);
        });
        assert_eq!((&row.1, &row.2, &row.3), (&p.n, &p.b, &None), "{:?}", p.id);
    }
    let kids: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM child WHERE k = 7")
        .fetch_one(&db.pool)
        .await
        .unwrap();
    assert_eq!(kids, ps.len() as i64);

    // A child whose parent is in neither table nor statement: the statement fails whole.
    let more = vec![P {
        id: "new".into(),
        n: None,
        b: None,
    }];
    let mut tx = db.begin().await.unwrap();
    let err = write(&mut tx, &more, &["new", "missing"])
        .await
        .unwrap_err();
    assert_eq!(
        err.as_database_error().map(|e| e.kind()),
        Some(sqlx::error::ErrorKind::ForeignKeyViolation)
    );
    drop(tx);
    let parents: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM parent")
        .fetch_one(&db.pool)
        .await
        .unwrap();
    assert_eq!(
        parents,
        ps.len() as i64,
        "nothing of the failed statement is kept"
    );
    db.close().await;
    drop_postgres_db(&url).await;
}
