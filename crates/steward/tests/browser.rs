//! End to end in a real browser: headless Chromium (through ChromeDriver and
//! the `fantoccini` WebDriver client) signs in through the real login page
//! with a TOTP code, lands on the home page, creates a client with hostile
//! text in its name through the real form, and sees it rendered as text.
//!
//! Needs Debian's `chromium` and `chromium-driver`. Without them the test
//! says so loudly and returns; with `STEWARD_TEST_REQUIRE_ALL=1` (CI) it fails.

mod common;
use common::*;
use fantoccini::{ClientBuilder, Locator};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const CHROMIUM: &str = "/usr/bin/chromium";

struct Driver(Child);
impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn chromedriver() -> Option<String> {
    ["/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver"].iter().find(|p| std::path::Path::new(p).exists()).map(|s| s.to_string())
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// Polls until `f` yields a value (htmx swaps pages asynchronously).
async fn until<T, F, Fut>(what: &str, mut f: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        if let Some(v) = f().await {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn sign_in_with_totp_and_create_a_client_in_chromium() {
    let (Some(driver_bin), true) = (chromedriver(), std::path::Path::new(CHROMIUM).exists()) else {
        let msg = "Chromium or ChromeDriver is missing (apt-get install chromium chromium-driver): the browser test did NOT run";
        assert!(!require_all(), "{msg}");
        eprintln!("\n!!! {msg} !!!\n");
        return;
    };
    let s = Server::start().await;
    let api = s.admin().await;
    let (secret, _) = enrol_mfa(&api).await;

    let port = free_port();
    let _driver = Driver(
        Command::new(driver_bin)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromedriver"),
    );
    let profile = tempfile::tempdir().unwrap();
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        serde_json::json!({
            "binary": CHROMIUM,
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--ignore-certificate-errors",
                     "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
                     "--window-size=1280,900", format!("--user-data-dir={}", profile.path().display())]
        }),
    );
    let connector = hyper_util::client::legacy::connect::HttpConnector::new();
    let webdriver = format!("http://127.0.0.1:{port}");
    let b = until("chromedriver", || {
        let mut builder = ClientBuilder::new(connector.clone());
        builder.capabilities(caps.clone());
        let url = webdriver.clone();
        async move { builder.connect(&url).await.ok() }
    })
    .await;

    // Sign in: password step, then the TOTP step.
    b.goto(&s.url("/login")).await.unwrap();
    b.find(Locator::Css("input[name=email]")).await.unwrap().send_keys(ADMIN_EMAIL).await.unwrap();
    b.find(Locator::Css("input[name=password]")).await.unwrap().send_keys(PASSWORD).await.unwrap();
    b.find(Locator::Css("button[type=submit]")).await.unwrap().click().await.unwrap();
    until("the TOTP page", || async { b.current_url().await.ok().filter(|u| u.path() == "/login/mfa") }).await;
    // Enrolment used this step's code; the next step's is valid once.
    b.find(Locator::Css("input[name=code]")).await.unwrap().send_keys(&totp_code(&secret, 1)).await.unwrap();
    b.find(Locator::Css("button[type=submit]")).await.unwrap().click().await.unwrap();
    let h1 = until("the home page", || async {
        let h = b.find(Locator::Css("main h1")).await.ok()?.text().await.ok()?;
        h.contains("Good to see you").then_some(h)
    })
    .await;
    assert!(h1.contains("Good to see you"), "{h1}");

    // Create a client through the real form (hx-boost submits it with htmx).
    b.goto(&s.url("/clients")).await.unwrap();
    let name = "Acme <script>window.pwned=1</script> Ltd";
    b.find(Locator::Css("form[action=\"/clients\"] input[name=name]")).await.unwrap().send_keys(name).await.unwrap();
    b.find(Locator::Css("form[action=\"/clients\"] button[type=submit]")).await.unwrap().click().await.unwrap();
    let url = until("the new client's page", || async {
        b.current_url().await.ok().filter(|u| u.path().starts_with("/clients/") && u.path()["/clients/".len()..].parse::<i64>().is_ok())
    })
    .await;
    let h1 = until("the client heading", || async {
        let h = b.find(Locator::Css("main h1")).await.ok()?.text().await.ok()?;
        h.contains("Acme").then_some(h)
    })
    .await;
    assert!(h1.contains("<script>window.pwned=1</script>"), "the name is shown as text: {h1}");
    let pwned = b.execute("return window.pwned === 1;", vec![]).await.unwrap();
    assert_eq!(pwned, serde_json::Value::Bool(false), "the injected script did not run");

    // The API agrees, and the creation was audited as this user from the browser.
    let id: i64 = url.path()["/clients/".len()..].parse().unwrap();
    let (st, c) = api.get(&format!("/api/v1/clients/{id}")).await;
    assert_eq!((st, c["name"].as_str()), (200, Some(name)));
    let (_, log) = api.get("/api/v1/audit?action=client.create").await;
    assert_eq!(log["items"][0]["actor"], ADMIN_EMAIL);

    if let Ok(png) = b.screenshot().await {
        let _ = std::fs::write(std::env::temp_dir().join("steward-browser.png"), png);
    }
    b.close().await.unwrap();
}
