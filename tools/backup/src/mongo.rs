//! user-svc's accounts: every collection of its MongoDB database, as
//! canonical Extended JSON, one document per line (the format `mongoexport
//! --jsonFormat=canonical` writes and `mongoimport` reads back), with the
//! collection's index specifications beside it.
//!
//! MongoDB has no snapshot across collections outside a transaction, so the
//! collections are read one after another; a write landing meanwhile may be
//! in one collection's file and not in another's. user-svc tolerates that
//! shape (a session whose user is gone is refused; an outbox entry whose
//! user is gone is sent or dropped).

use std::collections::BTreeMap;
use std::io::{BufRead, BufWriter, Write};
use std::path::Path;

use anyhow::{bail, Context};
use futures::TryStreamExt;
use mongodb::bson::{self, Bson, Document};
use mongodb::{Client, IndexModel};

use crate::manifest::{self, CollectionEntry, FileEntry, MongoSection};

/// Documents per insert on restore.
const BATCH: usize = 500;

async fn database(uri: &str, db: &str) -> anyhow::Result<mongodb::Database> {
    let client = Client::with_uri_str(uri)
        .await
        .context("connecting to MongoDB")?;
    Ok(client.database(db))
}

fn line(doc: Document) -> anyhow::Result<Vec<u8>> {
    let mut v = serde_json::to_vec(&Bson::Document(doc).into_canonical_extjson())?;
    v.push(b'\n');
    Ok(v)
}

fn parse(line: &str) -> anyhow::Result<Document> {
    let value: serde_json::Value = serde_json::from_str(line)?;
    match Bson::try_from(value)? {
        Bson::Document(d) => Ok(d),
        other => bail!("a line holds {:?}, not a document", other.element_type()),
    }
}

pub async fn dump(
    uri: &str,
    db_name: &str,
    dir: &Path,
    files: &mut BTreeMap<String, FileEntry>,
) -> anyhow::Result<MongoSection> {
    let db = database(uri, db_name).await?;
    std::fs::create_dir_all(dir.join("mongo"))?;
    let mut names = db
        .list_collection_names()
        .await
        .context("listing collections")?;
    names.retain(|n| !n.starts_with("system."));
    names.sort();
    let mut collections = vec![];
    for (i, name) in names.into_iter().enumerate() {
        let coll = db.collection::<Document>(&name);
        let file = format!("mongo/{i:04}.json");
        let mut out = BufWriter::new(std::fs::File::create(dir.join(&file))?);
        let mut cursor = coll
            .find(Document::new())
            .await
            .with_context(|| format!("reading {name}"))?;
        let mut documents = 0u64;
        while let Some(doc) = cursor.try_next().await? {
            out.write_all(&line(doc)?)?;
            documents += 1;
        }
        out.into_inner()?.sync_all()?;
        manifest::record(files, dir, &file)?;

        let indexes: Vec<IndexModel> = coll.list_indexes().await?.try_collect().await?;
        let mut specs = vec![];
        for index in indexes {
            let name = index.options.as_ref().and_then(|o| o.name.as_deref());
            if name == Some("_id_") {
                continue;
            }
            specs.push(Bson::Document(bson::to_document(&index)?).into_canonical_extjson());
        }
        let indexes_file = format!("mongo/{i:04}.indexes.json");
        std::fs::write(dir.join(&indexes_file), serde_json::to_vec_pretty(&specs)?)?;
        manifest::record(files, dir, &indexes_file)?;
        collections.push(CollectionEntry {
            name,
            file,
            indexes_file,
            documents,
        });
    }
    Ok(MongoSection {
        database: db_name.into(),
        collections,
    })
}

/// Reads one collection's index specifications.
fn index_specs(dir: &Path, c: &CollectionEntry) -> anyhow::Result<Vec<IndexModel>> {
    let spec_path = dir.join(manifest::safe_relative(&c.indexes_file)?);
    let specs: Vec<serde_json::Value> = serde_json::from_slice(&std::fs::read(&spec_path)?)
        .with_context(|| format!("reading {}", c.indexes_file))?;
    let mut indexes = vec![];
    for spec in specs {
        let doc = match Bson::try_from(spec)? {
            Bson::Document(d) => d,
            _ => bail!("{}: an index is not a document", c.indexes_file),
        };
        indexes.push(bson::from_document::<IndexModel>(doc)?);
    }
    Ok(indexes)
}

/// Calls `each` with every document of one collection's file, in order.
fn for_each_document(
    dir: &Path,
    c: &CollectionEntry,
    mut each: impl FnMut(Document) -> anyhow::Result<()>,
) -> anyhow::Result<u64> {
    let path = dir.join(manifest::safe_relative(&c.file)?);
    let reader = std::io::BufReader::new(std::fs::File::open(&path)?);
    let mut n = 0u64;
    for (i, l) in reader.lines().enumerate() {
        let doc = parse(&l?).with_context(|| format!("{} line {}", c.file, i + 1))?;
        each(doc)?;
        n += 1;
    }
    if n != c.documents {
        bail!(
            "{} holds {n} documents, the manifest says {}",
            c.file,
            c.documents
        );
    }
    Ok(n)
}

/// Before any store is written: every document of every collection parses,
/// the counts match the manifest, every index specification reads.
pub fn check(section: &MongoSection, dir: &Path) -> anyhow::Result<()> {
    for c in &section.collections {
        for_each_document(dir, c, |_| Ok(()))?;
        index_specs(dir, c)?;
    }
    Ok(())
}

/// Drops and refills every backed-up collection (streamed, in batches),
/// then recreates its indexes. Run [`check`] first: a file that does not
/// parse must not be found half-way, with the collection already dropped.
pub async fn load(
    uri: &str,
    db_name: &str,
    section: &MongoSection,
    dir: &Path,
) -> anyhow::Result<()> {
    let db = database(uri, db_name).await?;
    for c in &section.collections {
        let indexes = index_specs(dir, c)?;
        let coll = db.collection::<Document>(&c.name);
        coll.drop()
            .await
            .with_context(|| format!("dropping {}", c.name))?;
        // The file is read on a blocking thread and sent over in batches.
        let (tx, mut rx) = tokio::sync::mpsc::channel::<Vec<Document>>(2);
        let (d, entry) = (dir.to_owned(), c.clone());
        let reader = tokio::task::spawn_blocking(move || {
            let mut batch = Vec::with_capacity(BATCH);
            for_each_document(&d, &entry, |doc| {
                batch.push(doc);
                if batch.len() == BATCH {
                    tx.blocking_send(std::mem::take(&mut batch))
                        .map_err(|_| anyhow::anyhow!("restore stopped"))?;
                }
                Ok(())
            })?;
            if !batch.is_empty() {
                tx.blocking_send(batch)
                    .map_err(|_| anyhow::anyhow!("restore stopped"))?;
            }
            anyhow::Ok(())
        });
        while let Some(batch) = rx.recv().await {
            coll.insert_many(batch)
                .await
                .with_context(|| format!("refilling {}", c.name))?;
        }
        reader.await??;
        if !indexes.is_empty() {
            coll.create_indexes(indexes)
                .await
                .with_context(|| format!("indexing {}", c.name))?;
        }
        tracing::info!(collection = %c.name, documents = c.documents, "collection restored");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use mongodb::bson::{doc, oid::ObjectId, DateTime};

    #[test]
    fn a_document_survives_the_round_trip_through_a_line_with_its_types() {
        let d = doc! {
            "_id": ObjectId::new(),
            "n": 3_i32,
            "big": 1_i64 << 40,
            "x": 0.5,
            "at": DateTime::from_millis(1_700_000_000_123),
            "bin": Bson::Binary(bson::Binary { subtype: bson::spec::BinarySubtype::Generic, bytes: vec![0, 1, 2] }),
            "nested": {"list": [1, "two", null]},
        };
        let l = line(d.clone()).unwrap();
        assert!(l.ends_with(b"\n") && !l[..l.len() - 1].contains(&b'\n'));
        let back = parse(std::str::from_utf8(&l).unwrap().trim_end()).unwrap();
        assert_eq!(back, d);
    }
}
