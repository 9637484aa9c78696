//! The two migration folders cannot drift apart: both databases are migrated from scratch
//! and their schemas compared (tables, columns with their types modulo the dialect and
//! nullability, primary keys, indexes). Needs PostgreSQL (`JUBAO_TEST_POSTGRES_URL`).

use std::collections::BTreeMap;

use crate::helpers::*;
use jubao::store::Db;

/// table → column → (type family, not null, part of the primary key); table → index names.
type Schema = (
    BTreeMap<String, BTreeMap<String, (String, bool, bool)>>,
    BTreeMap<String, Vec<String>>,
);

fn family(t: &str) -> String {
    let t = t.to_ascii_lowercase();
    match t.as_str() {
        "integer" | "bigint" | "int" | "int8" | "bigserial" | "smallint" => "integer",
        "text" | "character varying" => "text",
        "blob" | "bytea" => "bytes",
        "real" | "double precision" => "float",
        _ => return t,
    }
    .to_string()
}

async fn sqlite_schema(db: &Db) -> Schema {
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' \
         AND name <> '_sqlx_migrations' ORDER BY name",
    )
    .fetch_all(&db.pool)
    .await
    .unwrap();
    let mut cols = BTreeMap::new();
    let mut idx = BTreeMap::new();
    for t in tables {
        let rows: Vec<(String, String, i64, i64)> = sqlx::query_as(&format!(
            "SELECT name, type, \"notnull\", pk FROM pragma_table_info('{t}')"
        ))
        .fetch_all(&db.pool)
        .await
        .unwrap();
        let c = rows
            .into_iter()
            .map(|(n, ty, nn, pk)| (n, (family(&ty), nn != 0 || pk != 0, pk != 0)))
            .collect();
        cols.insert(t.clone(), c);
        let mut names: Vec<String> = sqlx::query_scalar(
            "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = $1 \
             AND name NOT LIKE 'sqlite_autoindex_%' ORDER BY name",
        )
        .bind(&t)
        .fetch_all(&db.pool)
        .await
        .unwrap();
        names.sort();
        idx.insert(t, names);
    }
    (cols, idx)
}

async fn postgres_schema(db: &Db) -> Schema {
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT table_name::text FROM information_schema.tables WHERE table_schema = 'public' \
         AND table_type = 'BASE TABLE' AND table_name <> '_sqlx_migrations' ORDER BY 1",
    )
    .fetch_all(&db.pool)
    .await
    .unwrap();
    let mut cols = BTreeMap::new();
    let mut idx = BTreeMap::new();
    for t in tables {
        let rows: Vec<(String, String, String)> = sqlx::query_as(
            "SELECT column_name::text, data_type::text, is_nullable::text FROM \
             information_schema.columns WHERE table_schema = 'public' AND table_name = $1",
        )
        .bind(&t)
        .fetch_all(&db.pool)
        .await
        .unwrap();
        let pk: Vec<String> = sqlx::query_scalar(
            "SELECT a.attname::text FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid \
             AND a.attnum = ANY(i.indkey) WHERE i.indrelid = $1::regclass AND i.indisprimary",
        )
        .bind(&t)
        .fetch_all(&db.pool)
        .await
        .unwrap();
        let c = rows
            .into_iter()
            .map(|(n, ty, nullable)| {
                let is_pk = pk.contains(&n);
                (n, (family(&ty), nullable == "NO", is_pk))
            })
            .collect();
        cols.insert(t.clone(), c);
        // Indexes made by CREATE INDEX (not those behind PRIMARY KEY or UNIQUE constraints).
        let mut names: Vec<String> = sqlx::query_scalar(
            "SELECT i.indexname::text FROM pg_indexes i WHERE i.schemaname = 'public' \
             AND i.tablename = $1 AND NOT EXISTS (SELECT 1 FROM pg_constraint c \
             WHERE c.conname = i.indexname)",
        )
        .bind(&t)
        .fetch_all(&db.pool)
        .await
        .unwrap();
        names.sort();
        idx.insert(t, names);
    }
    (cols, idx)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn both_migration_folders_make_the_same_schema() {
    let Some(admin) = postgres_admin_url() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let lite = Db::connect(&format!("sqlite://{}/s.db", dir.path().display()), 2)
        .await
        .unwrap();
    lite.migrate().await.unwrap();
    let pg_url = fresh_postgres_db(&admin).await;
    let pg = Db::connect(&pg_url, 2).await.unwrap();
    pg.migrate().await.unwrap();
    let (lc, li) = sqlite_schema(&lite).await;
    let (pc, pi) = postgres_schema(&pg).await;
    pg.close().await;
    drop_postgres_db(&pg_url).await;
    assert_eq!(
        lc.keys().collect::<Vec<_>>(),
        pc.keys().collect::<Vec<_>>(),
        "the same tables"
    );
    assert!(lc.len() >= 20, "{:?}", lc.keys());
    let want = ("integer".to_string(), true, false);
    assert_eq!(lc["clocks"]["provisional"], want);
    assert_eq!(pc["clocks"]["provisional"], want);
    assert!(li["clocks"].contains(&"clocks_provisional".to_string()));
    let mut diffs = vec![];
    for (t, cols) in &lc {
        let other = &pc[t];
        for (c, l) in cols {
            match other.get(c) {
                None => diffs.push(format!("{t}.{c}: only in SQLite")),
                Some(p) if p != l => diffs.push(format!("{t}.{c}: SQLite {l:?}, PostgreSQL {p:?}")),
                _ => {}
            }
        }
        for c in other.keys().filter(|c| !cols.contains_key(*c)) {
            diffs.push(format!("{t}.{c}: only in PostgreSQL"));
        }
        if li[t] != pi[t] {
            diffs.push(format!(
                "{t} indexes: SQLite {:?}, PostgreSQL {:?}",
                li[t], pi[t]
            ));
        }
    }
    assert!(
        diffs.is_empty(),
        "the schemas differ:\n{}",
        diffs.join("\n")
    );
}
