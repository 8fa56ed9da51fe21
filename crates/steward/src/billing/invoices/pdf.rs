//! An invoice as PDF, pure: A4, the MSP's name and address, the client's
//! billing address, the lines with their detail (wrapped, on as many pages
//! as they need, the table's head repeated), taxes per rate, the total,
//! the payment terms and what is left to pay.
//!
//! Written with **pdf-writer** in the standard Helvetica faces, which every
//! PDF reader carries: no font to embed, a few kilobytes a document. Their
//! encoding (WinAnsi) covers Western European text; other characters are
//! printed as `?` (the HTML page and the CSV keep them all).

use pdf_writer::{Content, Name, Pdf, Rect, Ref, Str, TextStr};

/// What the document shows.
pub struct Document<'a> {
    pub company: &'a str,
    pub company_address: &'a str,
    /// "Invoice INV-2026-000123", "Credit note …", "Draft invoice 12".
    pub title: &'a str,
    /// "Issued 2026-12-07 · due 2027-01-06 · period …".
    pub dates: &'a str,
    pub client: &'a str,
    pub billing_address: &'a str,
    pub currency: &'a str,
    pub lines: Vec<[String; 5]>,
    /// Below the lines: label and figure ("Subtotal", "Tax 20 % on 100.00", "Total USD").
    pub totals: Vec<(String, String)>,
    pub terms: &'a str,
}

const W: f32 = 595.0;
const H: f32 = 842.0;
const MARGIN: f32 = 50.0;
const REGULAR: Name<'static> = Name(b"F1");
const BOLD: Name<'static> = Name(b"F2");

/// Helvetica's advance widths (thousandths of the size) for ASCII 32–126.
const WIDTHS: [u16; 95] = [
    278, 278, 355, 556, 556, 889, 667, 191, 333, 333, 389, 584, 278, 333, 278, 278, 556, 556, 556, 556, 556, 556, 556, 556, 556, 556, 278,
    278, 584, 584, 584, 556, 1015, 667, 667, 722, 722, 667, 611, 778, 722, 278, 500, 667, 556, 833, 722, 778, 667, 778, 722, 667, 611, 722,
    667, 944, 667, 667, 611, 278, 278, 278, 469, 556, 333, 556, 556, 500, 556, 556, 278, 556, 556, 222, 222, 500, 222, 833, 556, 556, 556,
    556, 333, 500, 278, 556, 500, 722, 500, 500, 500, 334, 260, 334, 584,
];

/// The width of `s` at `size` points (bold is close enough for layout).
pub fn width(s: &str, size: f32) -> f32 {
    s.chars().map(|c| if (' '..='~').contains(&c) { WIDTHS[c as usize - 32] } else { 556 } as f32).sum::<f32>() * size / 1000.0
}

/// `s` in WinAnsi (Windows-1252); what it cannot hold becomes `?`.
pub fn win_ansi(s: &str) -> Vec<u8> {
    const HIGH: [(char, u8); 27] = [
        ('€', 0x80),
        ('‚', 0x82),
        ('ƒ', 0x83),
        ('„', 0x84),
        ('…', 0x85),
        ('†', 0x86),
        ('‡', 0x87),
        ('ˆ', 0x88),
        ('‰', 0x89),
        ('Š', 0x8A),
        ('‹', 0x8B),
        ('Œ', 0x8C),
        ('Ž', 0x8E),
        ('‘', 0x91),
        ('’', 0x92),
        ('“', 0x93),
        ('”', 0x94),
        ('•', 0x95),
        ('–', 0x96),
        ('—', 0x97),
        ('˜', 0x98),
        ('™', 0x99),
        ('š', 0x9A),
        ('›', 0x9B),
        ('œ', 0x9C),
        ('ž', 0x9E),
        ('Ÿ', 0x9F),
    ];
    s.chars()
        .map(|c| match c as u32 {
            0x20..=0x7E | 0xA0..=0xFF => c as u8,
            _ => HIGH.iter().find(|(h, _)| *h == c).map(|(_, b)| *b).unwrap_or(b'?'),
        })
        .collect()
}

/// Breaks `s` into lines no wider than `max` at `size`.
pub fn wrap(s: &str, max: f32, size: f32) -> Vec<String> {
    let mut out = vec![];
    for para in s.lines() {
        let mut line = String::new();
        for word in para.split_whitespace() {
            let candidate = if line.is_empty() { word.to_string() } else { format!("{line} {word}") };
            if width(&candidate, size) <= max || line.is_empty() {
                line = candidate;
            } else {
                out.push(std::mem::take(&mut line));
                line = word.to_string();
            }
            // A word longer than the column is cut.
            while width(&line, size) > max && line.chars().count() > 1 {
                let mut cut = line.chars().count() - 1;
                while cut > 1 && width(&line.chars().take(cut).collect::<String>(), size) > max {
                    cut -= 1;
                }
                out.push(line.chars().take(cut).collect());
                line = line.chars().skip(cut).collect();
            }
        }
        out.push(line);
    }
    if out.is_empty() {
        out.push(String::new());
    }
    out
}

/// One page being drawn.
struct Page {
    c: Content,
    y: f32,
}

impl Page {
    fn new() -> Page {
        Page { c: Content::new(), y: H - MARGIN }
    }

    fn text(&mut self, font: Name, size: f32, x: f32, y: f32, s: &str) {
        self.c.begin_text();
        self.c.set_font(font, size);
        self.c.next_line(x, y);
        self.c.show(Str(&win_ansi(s)));
        self.c.end_text();
    }

    /// Text ending at `right`.
    fn right(&mut self, font: Name, size: f32, right: f32, y: f32, s: &str) {
        self.text(font, size, right - width(s, size), y, s);
    }

    fn rule(&mut self, y: f32) {
        self.c.set_line_width(0.5);
        self.c.move_to(MARGIN, y);
        self.c.line_to(W - MARGIN, y);
        self.c.stroke();
    }
}

/// Column right edges (numbers) and the description's width.
const COLS: [f32; 4] = [355.0, 425.0, 470.0, W - MARGIN];
const DESC_WIDTH: f32 = 230.0;

fn table_head(p: &mut Page) {
    let y = p.y;
    p.text(BOLD, 9.0, MARGIN, y, "Description");
    for (label, right) in ["Quantity", "Unit price", "Tax %", "Amount"].into_iter().zip(COLS) {
        p.right(BOLD, 9.0, right, y, label);
    }
    p.rule(y - 5.0);
    p.y -= 18.0;
}

/// The PDF's bytes.
pub fn render(d: &Document) -> Vec<u8> {
    let mut pages: Vec<Page> = vec![Page::new()];
    let mut p = pages.pop().expect("a page");
    p.text(BOLD, 16.0, MARGIN, p.y, d.company);
    let mut y = p.y - 16.0;
    for l in d.company_address.lines() {
        p.text(REGULAR, 9.0, MARGIN, y, l);
        y -= 11.0;
    }
    p.right(BOLD, 18.0, W - MARGIN, p.y, d.title);
    p.right(REGULAR, 9.0, W - MARGIN, p.y - 18.0, d.dates);
    p.y = y.min(p.y - 40.0) - 20.0;
    p.text(BOLD, 10.0, MARGIN, p.y, "Bill to");
    p.y -= 14.0;
    p.text(REGULAR, 10.0, MARGIN, p.y, d.client);
    for l in d.billing_address.lines() {
        p.y -= 12.0;
        p.text(REGULAR, 10.0, MARGIN, p.y, l);
    }
    p.y -= 30.0;
    table_head(&mut p);
    for row in &d.lines {
        let desc = wrap(&row[0], DESC_WIDTH, 9.0);
        let needed = desc.len() as f32 * 11.0 + 6.0;
        if p.y - needed < MARGIN + 40.0 {
            pages.push(std::mem::replace(&mut p, Page::new()));
            p.text(REGULAR, 9.0, MARGIN, p.y, &format!("{} (continued)", d.title));
            p.y -= 24.0;
            table_head(&mut p);
        }
        let top = p.y;
        for (k, l) in desc.iter().enumerate() {
            p.text(REGULAR, 9.0, MARGIN, top - k as f32 * 11.0, l);
        }
        for (v, right) in row[1..].iter().zip(COLS) {
            p.right(REGULAR, 9.0, right, top, v);
        }
        p.y -= needed;
    }
    if p.y - (d.totals.len() as f32 * 14.0 + 50.0) < MARGIN {
        pages.push(std::mem::replace(&mut p, Page::new()));
    }
    p.rule(p.y + 8.0);
    p.y -= 6.0;
    let last = d.totals.len().saturating_sub(1);
    for (i, (label, figure)) in d.totals.iter().enumerate() {
        let font = if i == last || label.starts_with("Total") { BOLD } else { REGULAR };
        p.right(font, 10.0, COLS[2], p.y, label);
        p.right(font, 10.0, COLS[3], p.y, figure);
        p.y -= 14.0;
    }
    p.y -= 20.0;
    for l in wrap(d.terms, W - 2.0 * MARGIN, 9.0) {
        p.text(REGULAR, 9.0, MARGIN, p.y, &l);
        p.y -= 11.0;
    }
    pages.push(p);

    let mut pdf = Pdf::new();
    let (catalog, tree, regular, bold, info) = (Ref::new(1), Ref::new(2), Ref::new(3), Ref::new(4), Ref::new(5));
    let ids: Vec<(Ref, Ref)> = (0..pages.len() as i32).map(|i| (Ref::new(10 + 2 * i), Ref::new(11 + 2 * i))).collect();
    pdf.catalog(catalog).pages(tree);
    pdf.pages(tree).kids(ids.iter().map(|(page, _)| *page)).count(ids.len() as i32);
    let total = pages.len();
    for (n, (page, (page_id, content_id))) in pages.into_iter().zip(ids).enumerate() {
        let mut page = page;
        if total > 1 {
            page.right(REGULAR, 8.0, W - MARGIN, MARGIN / 2.0, &format!("Page {} of {total}", n + 1));
        }
        let mut w = pdf.page(page_id);
        w.media_box(Rect::new(0.0, 0.0, W, H)).parent(tree).contents(content_id);
        w.resources().fonts().pair(REGULAR, regular).pair(BOLD, bold);
        drop(w);
        pdf.stream(content_id, &page.c.finish());
    }
    pdf.type1_font(regular).base_font(Name(b"Helvetica")).encoding_predefined(Name(b"WinAnsiEncoding"));
    pdf.type1_font(bold).base_font(Name(b"Helvetica-Bold")).encoding_predefined(Name(b"WinAnsiEncoding"));
    pdf.document_info(info).title(TextStr(d.title)).producer(TextStr("Steward"));
    pdf.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn western_text_keeps_its_letters_and_the_rest_is_marked() {
        assert_eq!(win_ansi("Café – 12 €"), b"Caf\xe9 \x96 12 \x80".to_vec());
        assert_eq!(win_ansi("東京"), b"??".to_vec());
    }

    #[test]
    fn a_long_invoice_runs_over_pages() {
        let d = Document {
            company: "Acme IT",
            company_address: "1 Main St\nSpringfield",
            title: "Invoice INV-2026-000001",
            dates: "Issued 2026-12-07",
            client: "Contoso (Europe) Ltd \\ (test)",
            billing_address: "",
            currency: "USD",
            lines: (0..120)
                .map(|i| {
                    [
                        format!("Line {i} with a description long enough to wrap onto a second line of the column"),
                        "1".into(),
                        "2.00".into(),
                        "0".into(),
                        "2.00".into(),
                    ]
                })
                .collect(),
            totals: vec![("Total USD".into(), "240.00".into())],
            terms: "Payment due within 30 days.",
        };
        let bytes = render(&d);
        assert!(bytes.starts_with(b"%PDF-"));
        let text = String::from_utf8_lossy(&bytes);
        assert!(
            text.matches("/Type /Page\n").count() + text.matches("/Type /Page ").count() >= 1 || text.contains("/Count "),
            "pages are written"
        );
        assert!(text.contains("(Page 1 of "), "a long invoice says which page is which");
    }

    proptest! {
        /// Wrapped lines fit the column (but for a single character) and keep every word.
        #[test]
        fn wrapping_keeps_the_words_and_the_width(words in prop::collection::vec("[a-zA-Z0-9]{1,30}", 0..40), max in 40.0f32..300.0) {
            let s = words.join(" ");
            let lines = wrap(&s, max, 9.0);
            for l in &lines {
                prop_assert!(width(l, 9.0) <= max || l.chars().count() <= 1, "{l:?} wider than {max}");
            }
            prop_assert_eq!(lines.concat().replace(' ', ""), s.replace(' ', ""));
        }
    }
}
