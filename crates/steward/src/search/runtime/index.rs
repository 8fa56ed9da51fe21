//! The embedded full-text index: tantivy, in `<data dir>/search`, one per
//! node. Every searchable text of a record goes into one indexed field
//! (`text`), because querying one field is an order of magnitude faster
//! than querying several (see bench/RESULTS.md); the filters (client,
//! status kind, opened date, record kind) are exact-value fields.
//!
//! Phrases: `pairs` holds every two adjacent *common* words of `text` as
//! one term (Elasticsearch's "common grams"), so `"printer offline"` is one
//! term lookup instead of reading the positions of two common words in
//! hundreds of thousands of documents; a phrase with a rarer word is
//! checked by positions, cheap because that word's documents are few. The
//! common words are chosen when the index is rebuilt and kept in its commit
//! payload, so every document is paired by the same set
//! (`search::model::common_words`).
//!
//! The index's cursor into the database's outbox is written in the same
//! tantivy commit as the documents it covers, so after a crash the index
//! and its cursor agree, and the indexer re-reads what came after.

use crate::search::model::cursor::Cursor;
use crate::search::model::{common_words, pairs, plain_phrases, Doc, DEFAULT_COMMON};
use std::collections::{BTreeSet, HashSet};
use std::ops::Bound;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use tantivy::collector::TopDocs;
use tantivy::query::{BooleanQuery, Occur, PhraseQuery, Query, QueryParser, RangeQuery, TermQuery, TermSetQuery};
use tantivy::schema::{Field, IndexRecordOption, Schema, TextFieldIndexing, TextOptions, Value, FAST, INDEXED, STORED, STRING};
use tantivy::snippet::SnippetGenerator;
use tantivy::tokenizer::{AsciiFoldingFilter, Language, LowerCaser, RemoveLongFilter, SimpleTokenizer, Stemmer, TextAnalyzer};
use tantivy::{IndexReader, IndexWriter, ReloadPolicy, TantivyDocument, Term};

/// Bumped when the schema or the analyzer changes: an index of another
/// version is rebuilt from the database.
const VERSION: u32 = 2;

/// The analyzer of `text`: words, lower case, accents folded, English stems.
const ANALYZER: &str = "steward";

/// The tokenizer of `pairs`.
const PAIRS: &str = "steward_pairs";

/// The words whose pairs are indexed, shared by the index and its
/// tokenizer (which tantivy runs in its indexing threads).
type Common = std::sync::Arc<std::sync::RwLock<std::sync::Arc<HashSet<String>>>>;

/// `pairs`' tokenizer: the text through `text`'s analyzer, then one token
/// per two adjacent common words. Run by tantivy's indexing threads, like
/// `text`'s analyzer, so a rebuild analyzes on every core.
#[derive(Clone)]
struct PairTokenizer {
    words: TextAnalyzer,
    common: Common,
}

impl tantivy::tokenizer::Tokenizer for PairTokenizer {
    type TokenStream<'a> = PairStream;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> PairStream {
        use tantivy::tokenizer::TokenStream;
        let mut stream = self.words.token_stream(text);
        let mut words = Vec::new();
        while stream.advance() {
            let t = stream.token_mut();
            words.push((t.position, std::mem::take(&mut t.text)));
        }
        let common = self.common.read().unwrap_or_else(|e| e.into_inner()).clone();
        let tokens = pairs(&words, &common)
            .enumerate()
            .map(|(position, text)| tantivy::tokenizer::Token { offset_from: 0, offset_to: 0, position, text, position_length: 1 })
            .collect();
        PairStream { tokens, at: None }
    }
}

/// The pair tokens of one text.
struct PairStream {
    tokens: Vec<tantivy::tokenizer::Token>,
    at: Option<usize>,
}

impl tantivy::tokenizer::TokenStream for PairStream {
    fn advance(&mut self) -> bool {
        let next = self.at.map_or(0, |i| i + 1);
        self.at = Some(next);
        next < self.tokens.len()
    }
    fn token(&self) -> &tantivy::tokenizer::Token {
        &self.tokens[self.at.unwrap_or(0)]
    }
    fn token_mut(&mut self) -> &mut tantivy::tokenizer::Token {
        &mut self.tokens[self.at.unwrap_or(0)]
    }
}

/// The writer's memory budget (tantivy splits it among its threads).
const WRITER_BYTES: usize = 128 * 1024 * 1024;

#[derive(Clone, Copy)]
struct Fields {
    key: Field,
    kind: Field,
    id: Field,
    client: Field,
    status: Field,
    opened: Field,
    title: Field,
    text: Field,
    pairs: Field,
}

fn schema() -> (Schema, Fields) {
    let mut b = Schema::builder();
    let text_options = TextOptions::default()
        .set_indexing_options(
            TextFieldIndexing::default().set_tokenizer(ANALYZER).set_index_option(IndexRecordOption::WithFreqsAndPositions),
        )
        .set_stored();
    let f = Fields {
        key: b.add_text_field("key", STRING),
        kind: b.add_text_field("kind", STRING | STORED),
        id: b.add_i64_field("id", STORED),
        client: b.add_i64_field("client_id", INDEXED | STORED),
        status: b.add_text_field("status", STRING),
        opened: b.add_i64_field("opened_at", INDEXED | FAST),
        title: b.add_text_field("title", STORED),
        text: b.add_text_field("text", text_options),
        // The same text as `text`, through [`PairTokenizer`]; frequencies
        // for scoring, no positions.
        pairs: b.add_text_field(
            "pairs",
            TextOptions::default()
                .set_indexing_options(TextFieldIndexing::default().set_tokenizer(PAIRS).set_index_option(IndexRecordOption::WithFreqs)),
        ),
    };
    (b.build(), f)
}

fn analyzer() -> TextAnalyzer {
    TextAnalyzer::builder(SimpleTokenizer::default())
        .filter(RemoveLongFilter::limit(40))
        .filter(LowerCaser)
        .filter(AsciiFoldingFilter)
        .filter(Stemmer::new(Language::English))
        .build()
}

/// The commit payload: the index's version and how far into the outbox
/// it has applied; `None` while a rebuild is under way.
#[derive(serde::Serialize, serde::Deserialize)]
struct Payload {
    version: u32,
    through: Option<i64>,
    /// The words whose pairs are indexed (analyzed).
    #[serde(default)]
    common: Option<Vec<String>>,
}

/// What one search asks.
#[derive(Debug, Clone, Default)]
pub struct Request {
    pub text: String,
    /// The clients the caller may see (`None`: all).
    pub scope: Option<Vec<i64>>,
    /// Status kinds to keep (empty: all).
    pub statuses: Vec<String>,
    /// Opened at or after / before (µs).
    pub from: Option<i64>,
    pub to: Option<i64>,
    /// Record kinds to keep (empty: all).
    pub kinds: Vec<&'static str>,
    pub limit: usize,
    /// Any of the words, best first (for "related to this text"), instead
    /// of all of them.
    pub any_word: bool,
}

/// One hit, best first.
#[derive(Debug, Clone)]
pub struct Found {
    pub kind: String,
    pub id: i64,
    pub client_id: i64,
    pub score: f32,
    pub title: String,
    /// A passage of the text around the best match.
    pub fragment: String,
    /// Byte ranges of `fragment` that matched.
    pub highlights: Vec<(usize, usize)>,
}

/// The index of this node.
pub struct Index {
    index: tantivy::Index,
    reader: IndexReader,
    writer: Mutex<IndexWriter>,
    /// The analyzer of `text`, for the pairs of a document or a phrase.
    analyzer: TextAnalyzer,
    /// The words whose pairs are indexed, and whether a rebuild is to choose
    /// them anew from its first documents.
    common: Common,
    choose_common: std::sync::atomic::AtomicBool,
    f: Fields,
    cursor: Mutex<Option<Cursor>>,
    pub dir: PathBuf,
}

impl Index {
    /// Opens the index under `dir`, creating it (or recreating it, when it
    /// is of another version or unreadable) as needed. Fails when another
    /// process holds it.
    pub fn open(dir: &Path) -> anyhow::Result<Index> {
        std::fs::create_dir_all(dir)?;
        let (schema, f) = schema();
        let index = match open_current(dir, &schema) {
            Some(i) => i,
            None => {
                tracing::info!(dir = %dir.display(), "search index missing or of another version: creating it");
                std::fs::remove_dir_all(dir)?;
                std::fs::create_dir_all(dir)?;
                tantivy::Index::create_in_dir(dir, schema)?
            }
        };
        index.tokenizers().register(ANALYZER, analyzer());
        let common: Common = Default::default();
        index.tokenizers().register(PAIRS, TextAnalyzer::from(PairTokenizer { words: analyzer(), common: common.clone() }));
        let writer = index.writer(WRITER_BYTES).map_err(|e| match e {
            tantivy::TantivyError::LockFailure(..) => {
                anyhow::anyhow!("the search index in {} is in use by another steward process (stop the server first)", dir.display())
            }
            e => e.into(),
        })?;
        let reader = index.reader_builder().reload_policy(ReloadPolicy::Manual).try_into()?;
        let saved = payload(&index);
        let through = saved.as_ref().and_then(|p| p.through);
        let cursor = Mutex::new(through.map(Cursor::at));
        let i = Index {
            index,
            reader,
            writer: Mutex::new(writer),
            analyzer: analyzer(),
            common: common.clone(),
            choose_common: false.into(),
            f,
            cursor,
            dir: dir.to_path_buf(),
        };
        let common = match saved.and_then(|p| p.common) {
            Some(words) => words.into_iter().collect(),
            None => DEFAULT_COMMON.iter().flat_map(|w| i.words(w)).map(|(_, w)| w).collect(),
        };
        *i.common.write().unwrap_or_else(|e| e.into_inner()) = std::sync::Arc::new(common);
        Ok(i)
    }

    /// Where the index stands in the outbox; `None` when it has never been
    /// built completely (a rebuild is due).
    pub fn cursor(&self) -> Option<Cursor> {
        self.cursor.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    fn term_key(&self, kind: &str, id: i64) -> Term {
        Term::from_field_text(self.f.key, &format!("{kind}:{id}"))
    }

    fn common(&self) -> std::sync::Arc<HashSet<String>> {
        self.common.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// The words whose pairs this index keeps (for the benchmark's report).
    pub fn common_words(&self) -> usize {
        self.common().len()
    }

    fn payload(&self, through: Option<i64>) -> Payload {
        Payload { version: VERSION, through, common: Some(self.common().iter().cloned().collect()) }
    }

    fn document(&self, d: &Doc) -> TantivyDocument {
        let mut doc = TantivyDocument::default();
        doc.add_text(self.f.key, format!("{}:{}", d.kind, d.id));
        doc.add_text(self.f.kind, d.kind);
        doc.add_i64(self.f.id, d.id);
        doc.add_i64(self.f.client, d.client_id);
        doc.add_text(self.f.status, &d.status);
        doc.add_i64(self.f.opened, d.opened_at);
        doc.add_text(self.f.title, &d.title);
        // Tokenized by tantivy's indexing threads; `pairs` by [`PairTokenizer`].
        doc.add_text(self.f.text, &d.text);
        doc.add_text(self.f.pairs, &d.text);
        doc
    }

    /// A text's analyzed words with their positions, as `text` indexes them.
    fn words(&self, text: &str) -> Vec<(usize, String)> {
        let mut a = self.analyzer.clone();
        let mut stream = a.token_stream(text);
        let mut out = vec![];
        while tantivy::tokenizer::TokenStream::advance(&mut stream) {
            let t = tantivy::tokenizer::TokenStream::token_mut(&mut stream);
            out.push((t.position, std::mem::take(&mut t.text)));
        }
        out
    }

    /// The query for one phrase: its pair terms, and for three words or
    /// more the positions too (pairs "a b" and "b c" do not make "a b c").
    /// A phrase the analyzer leaves one word of is that word.
    fn phrase_query(&self, phrase: &str) -> Option<Box<dyn Query>> {
        let words = self.words(phrase);
        let term = |w: &str| Term::from_field_text(self.f.text, w);
        match words.len() {
            0 => None,
            1 => Some(Box::new(TermQuery::new(term(&words[0].1), IndexRecordOption::WithFreqs))),
            n => {
                let first = words[0].0;
                let common = self.common();
                let paired = pairs(&words, &common).count();
                let mut clauses: Vec<(Occur, Box<dyn Query>)> = pairs(&words, &common)
                    .map(|p| -> (Occur, Box<dyn Query>) {
                        (Occur::Must, Box::new(TermQuery::new(Term::from_field_text(self.f.pairs, &p), IndexRecordOption::WithFreqs)))
                    })
                    .collect();
                // Positions decide unless one pair term is the whole phrase.
                if n > 2 || paired == 0 {
                    let at = words.iter().map(|(p, w)| (p - first, term(w))).collect();
                    clauses.push((Occur::Must, Box::new(PhraseQuery::new_with_offset(at))));
                }
                Some(if clauses.len() == 1 { clauses.remove(0).1 } else { Box::new(BooleanQuery::new(clauses)) })
            }
        }
    }

    /// Remembers where a pass that changed nothing on disk left the cursor
    /// (gaps filled by rows of no indexed kind, say).
    pub fn remember(&self, cursor: Cursor) {
        *self.cursor.lock().unwrap_or_else(|e| e.into_inner()) = Some(cursor);
    }

    /// Replaces (or removes, for `None`) each record's document and commits
    /// them with the new cursor; searchable when this returns.
    pub fn apply(&self, changes: &[(&'static str, i64, Option<Doc>)], cursor: Cursor) -> anyhow::Result<()> {
        let mut w = self.writer.lock().unwrap_or_else(|e| e.into_inner());
        for (kind, id, doc) in changes {
            w.delete_term(self.term_key(kind, *id));
            if let Some(d) = doc {
                w.add_document(self.document(d))?;
            }
        }
        commit(&mut w, self.payload(Some(cursor.through)))?;
        drop(w);
        self.reader.reload()?;
        *self.cursor.lock().unwrap_or_else(|e| e.into_inner()) = Some(cursor);
        Ok(())
    }

    /// Starts a rebuild: every document goes, and the index says it is
    /// incomplete until [`Index::finish_rebuild`].
    pub fn start_rebuild(&self) -> anyhow::Result<()> {
        let mut w = self.writer.lock().unwrap_or_else(|e| e.into_inner());
        w.delete_all_documents()?;
        commit(&mut w, self.payload(None))?;
        self.choose_common.store(true, std::sync::atomic::Ordering::SeqCst);
        *self.cursor.lock().unwrap_or_else(|e| e.into_inner()) = None;
        Ok(())
    }

    /// Adds documents during a rebuild (committed by the next call of
    /// [`Index::rebuild_checkpoint`] or [`Index::finish_rebuild`]).
    pub fn add(&self, docs: &[Doc]) -> anyhow::Result<()> {
        let w = self.writer.lock().unwrap_or_else(|e| e.into_inner());
        // A rebuild's first documents choose the common words for all.
        if self.choose_common.swap(false, std::sync::atomic::Ordering::SeqCst) {
            let sets: Vec<BTreeSet<String>> = docs.iter().map(|d| self.words(&d.text).into_iter().map(|(_, w)| w).collect()).collect();
            let chosen = common_words(&sets);
            if !chosen.is_empty() {
                *self.common.write().unwrap_or_else(|e| e.into_inner()) = std::sync::Arc::new(chosen.into_iter().collect());
            }
        }
        for d in docs {
            w.add_document(self.document(d))?;
        }
        Ok(())
    }

    /// Commits what a rebuild has added so far, still marked incomplete
    /// (bounds the writer's memory on a large rebuild).
    pub fn rebuild_checkpoint(&self) -> anyhow::Result<()> {
        commit(&mut self.writer.lock().unwrap_or_else(|e| e.into_inner()), self.payload(None))
    }

    /// Ends a rebuild: commits with the cursor it started from.
    pub fn finish_rebuild(&self, through: i64) -> anyhow::Result<()> {
        let mut w = self.writer.lock().unwrap_or_else(|e| e.into_inner());
        commit(&mut w, self.payload(Some(through)))?;
        drop(w);
        self.reader.reload()?;
        *self.cursor.lock().unwrap_or_else(|e| e.into_inner()) = Some(Cursor::at(through));
        Ok(())
    }

    /// How many documents the index holds (as of its last commit).
    pub fn len(&self) -> u64 {
        self.reader.searcher().num_docs()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// [`Index::search`] off the async workers (a search reads the index
    /// files), for handlers.
    pub async fn search_blocking(self: &std::sync::Arc<Self>, r: Request) -> Result<Vec<Found>, crate::error::ApiError> {
        let index = self.clone();
        tokio::task::spawn_blocking(move || index.search(&r))
            .await
            .map_err(|e| crate::error::ApiError::internal(format!("search task: {e}")))?
            .map_err(crate::error::ApiError::Internal)
    }

    /// The best hits for `r`, scoped, with snippets.
    pub fn search(&self, r: &Request) -> anyhow::Result<Vec<Found>> {
        if r.scope.as_ref().is_some_and(Vec::is_empty) || r.limit == 0 {
            return Ok(vec![]);
        }
        let mut parser = QueryParser::for_index(&self.index, vec![self.f.text]);
        if !r.any_word {
            parser.set_conjunction_by_default();
        }
        // Lenient: a stray quote or colon is read as text, never an error.
        let (text_query, _) = parser.parse_query_lenient(&r.text);
        // The parsed query picks the snippets' words; phrases are looked up
        // by their pairs where the query is plain enough to take apart.
        let mut clauses: Vec<(Occur, Box<dyn Query>)> = match plain_phrases(&r.text).filter(|_| !r.any_word) {
            Some((phrases, rest)) => {
                let mut c: Vec<(Occur, Box<dyn Query>)> =
                    phrases.iter().filter_map(|p| self.phrase_query(p)).map(|q| (Occur::Must, q)).collect();
                if !rest.trim().is_empty() {
                    c.push((Occur::Must, parser.parse_query_lenient(&rest).0));
                }
                c
            }
            None => vec![],
        };
        if clauses.is_empty() {
            clauses.push((Occur::Must, text_query.box_clone()));
        }
        if let Some(scope) = &r.scope {
            clauses.push((Occur::Must, Box::new(TermSetQuery::new(scope.iter().map(|c| Term::from_field_i64(self.f.client, *c))))));
        }
        if !r.statuses.is_empty() {
            clauses.push((Occur::Must, Box::new(TermSetQuery::new(r.statuses.iter().map(|s| Term::from_field_text(self.f.status, s))))));
        }
        if !r.kinds.is_empty() {
            clauses.push((Occur::Must, Box::new(TermSetQuery::new(r.kinds.iter().map(|k| Term::from_field_text(self.f.kind, k))))));
        }
        if r.from.is_some() || r.to.is_some() {
            let lo = r.from.map_or(Bound::Unbounded, |v| Bound::Included(Term::from_field_i64(self.f.opened, v)));
            let hi = r.to.map_or(Bound::Unbounded, |v| Bound::Excluded(Term::from_field_i64(self.f.opened, v)));
            clauses.push((Occur::Must, Box::new(RangeQuery::new(lo, hi))));
        }
        let query: Box<dyn Query> = if clauses.len() == 1 { clauses.remove(0).1 } else { Box::new(BooleanQuery::new(clauses)) };
        let searcher = self.reader.searcher();
        let top = searcher.search(&*query, &TopDocs::with_limit(r.limit).order_by_score())?;
        if top.is_empty() {
            return Ok(vec![]);
        }
        let mut snippets = SnippetGenerator::create(&searcher, &*text_query, self.f.text)?;
        snippets.set_max_num_chars(180);
        let mut out = Vec::with_capacity(top.len());
        for (score, addr) in top {
            let doc: TantivyDocument = searcher.doc(addr)?;
            let s = snippets.snippet_from_doc(&doc);
            let str_of = |f: Field| doc.get_first(f).and_then(|v| v.as_str()).unwrap_or_default().to_string();
            let int_of = |f: Field| doc.get_first(f).and_then(|v| v.as_i64()).unwrap_or_default();
            let fragment = s.fragment().to_string();
            let highlights = s.highlighted().iter().map(|r| (r.start, r.end)).collect();
            out.push(Found {
                kind: str_of(self.f.kind),
                id: int_of(self.f.id),
                client_id: int_of(self.f.client),
                score,
                title: str_of(self.f.title),
                fragment,
                highlights,
            });
        }
        Ok(out)
    }

    /// A term's document frequency, for the benchmark's query classes.
    pub fn doc_freq(&self, word: &str) -> u64 {
        let term = Term::from_field_text(self.f.text, word);
        self.reader.searcher().doc_freq(&term).unwrap_or(0)
    }

    /// A single-term query's hits, unscored and unscoped (the benchmark's check that a
    /// document is searchable).
    pub fn contains(&self, word: &str) -> bool {
        let q = TermQuery::new(Term::from_field_text(self.f.text, word), IndexRecordOption::Basic);
        self.reader.searcher().search(&q, &tantivy::collector::Count).is_ok_and(|n| n > 0)
    }
}

fn open_current(dir: &Path, schema: &Schema) -> Option<tantivy::Index> {
    let index = tantivy::Index::open_in_dir(dir).ok()?;
    let current = index.schema() == *schema && payload(&index).is_some_and(|p| p.version == VERSION);
    current.then_some(index)
}

fn payload(index: &tantivy::Index) -> Option<Payload> {
    index.load_metas().ok()?.payload.and_then(|p| serde_json::from_str(&p).ok())
}

fn commit(w: &mut IndexWriter, payload: Payload) -> anyhow::Result<()> {
    let mut c = w.prepare_commit()?;
    c.set_payload(&serde_json::to_string(&payload)?);
    c.commit()?;
    Ok(())
}
