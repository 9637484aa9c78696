//! Evidence as case viewers get it (DOMAIN §7): a PDF whose Info dictionary and XMP name
//! the reporter is filed with a tip; the case's intake officer downloads the working copy
//! and finds neither the name nor, by exiftool, any author, creator or XMP. A PDF that
//! cannot be sanitized (encrypted) is held sealed: listed as such, and its working copy
//! is refused with a CONTRACT §7 error.

use lopdf::{dictionary, text_string, Document, Object, Stream};
use reqwest::multipart::{Form, Part};
use serde_json::{json, Value};

use crate::both_databases;
use crate::helpers::*;
use crate::staffkit::*;
use crate::tools;

both_databases!(
    case_viewer_gets_a_pdf_without_the_reporters_name,
    encrypted_pdf_is_held_sealed_and_not_served,
    reads_are_audited,
    originals_only_through_a_custodian,
);

const NAME: &str = "张三";
const PHONE: &str = "13800138000";

/// One page; the reporter's name and phone in the Info dictionary and in XMP.
fn pdf_naming_the_reporter() -> Document {
    let mut doc = Document::with_version("1.7");
    let pages = doc.new_object_id();
    let content = doc.add_object(Stream::new(
        dictionary! {},
        b"BT /F1 18 Tf 72 720 Td (Bill 0042) Tj ET".to_vec(),
    ));
    let page = doc.add_object(dictionary! {
        "Type" => "Page", "Parent" => pages, "Contents" => content,
        "MediaBox" => vec![0.into(), 0.into(), 595.into(), 842.into()],
    });
    doc.objects.insert(
        pages,
        Object::Dictionary(
            dictionary! { "Type" => "Pages", "Kids" => vec![page.into()], "Count" => 1 },
        ),
    );
    let xmp = format!(
        "<x:xmpmeta xmlns:x='adobe:ns:meta/'><rdf:RDF xmlns:rdf='http://www.w3.org/1999/02/22-rdf-syntax-ns#'>\
         <rdf:Description rdf:about='' xmlns:dc='http://purl.org/dc/elements/1.1/'>\
         <dc:creator><rdf:Seq><rdf:li>{NAME}</rdf:li></rdf:Seq></dc:creator>\
         <dc:rights><rdf:Alt><rdf:li xml:lang='x-default'>{PHONE}</rdf:li></rdf:Alt></dc:rights>\
         </rdf:Description></rdf:RDF></x:xmpmeta>"
    );
    let metadata = doc.add_object(
        Stream::new(
            dictionary! { "Type" => "Metadata", "Subtype" => "XML" },
            xmp.into_bytes(),
        )
        .with_compression(false),
    );
    let catalog = doc.add_object(dictionary! {
        "Type" => "Catalog", "Pages" => pages, "Metadata" => metadata,
    });
    let info = doc.add_object(dictionary! {
        "Author" => text_string(NAME),
        "Creator" => Object::string_literal(format!("Scan by {PHONE}")),
        "Title" => text_string(&format!("{NAME}的举报材料")),
    });
    doc.trailer.set("Root", catalog);
    doc.trailer.set("Info", info);
    doc
}

fn bytes_of(mut doc: Document) -> Vec<u8> {
    let mut out = Vec::new();
    doc.save_to(&mut out).unwrap();
    out
}

/// Files an anonymous tip with one PDF; returns the case id.
async fn file_with_pdf(app: &TestApp, pdf: Vec<u8>) -> String {
    let form = Form::new()
        .part(
            "report",
            Part::text(anonymous_report().to_string())
                .mime_str("application/json")
                .unwrap(),
        )
        .part(
            "evidence",
            Part::bytes(pdf)
                .file_name("材料.pdf")
                .mime_str("application/pdf")
                .unwrap(),
        );
    let res = app
        .client
        .post(app.url("/api/v1/reports"))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201, "{:?}", res.text().await);
    let receipt: Value = res.json().await.unwrap();
    case_id_of(app, receipt["tracking_code"].as_str().unwrap()).await
}

/// The case's one evidence item as the case detail lists it.
async fn listed_evidence(app: &TestApp, s: &Staff, case: &str) -> Value {
    let res = get(app, &s.token, &format!("/api/v1/cases/{case}")).await;
    assert_eq!(res.status(), 200);
    let detail: Value = res.json().await.unwrap();
    let items = detail["evidence"].as_array().unwrap().clone();
    assert_eq!(items.len(), 1, "{items:?}");
    items[0].clone()
}

async fn case_viewer_gets_a_pdf_without_the_reporters_name(app: TestApp) {
    let pdf = bytes_of(pdf_naming_the_reporter());
    assert!(pdf.windows(PHONE.len()).any(|w| w == PHONE.as_bytes()));
    let case = file_with_pdf(&app, pdf.clone()).await;
    let intake = staff(&app, "intake1", "intake", "371500").await;
    let item = listed_evidence(&app, &intake, &case).await;
    assert_eq!(item["kind"], "pdf");
    assert_eq!(item["size_bytes"], pdf.len() as i64);
    use sha2::Digest;
    assert_eq!(item["sha256"], hex::encode(sha2::Sha256::digest(&pdf)));
    assert_eq!(item["held_sealed"], false);
    assert_eq!(item["working_media_type"], "application/pdf");

    let path = format!(
        "/api/v1/cases/{case}/evidence/{}",
        item["id"].as_str().unwrap()
    );
    let res = get(&app, &intake.token, &path).await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "application/pdf");
    let working = res.bytes().await.unwrap().to_vec();
    let utf16: Vec<u8> = NAME.encode_utf16().flat_map(u16::to_be_bytes).collect();
    for needle in [NAME.as_bytes(), &utf16, PHONE.as_bytes()] {
        assert!(
            !working.windows(needle.len()).any(|w| w == needle),
            "leaked"
        );
    }
    let doc = Document::load_mem(&working).expect("still a PDF");
    assert_eq!(doc.get_pages().len(), 1);

    if tools::need(
        "evidence::case_viewer_gets_a_pdf_without_the_reporters_name (exiftool part)",
        &[tools::EXIFTOOL],
    ) {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("working.pdf");
        std::fs::write(&file, &working).unwrap();
        let out = std::process::Command::new("exiftool")
            .args(["-j", "-a", "-G1"])
            .arg(&file)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let tags: Value = serde_json::from_slice(&out.stdout).unwrap();
        let tags = tags[0].as_object().unwrap();
        for key in tags.keys() {
            assert!(
                !key.starts_with("XMP") && !key.ends_with(":Author") && !key.ends_with(":Creator"),
                "exiftool still reads {key}: {tags:?}"
            );
        }
        assert!(!serde_json::to_string(tags).unwrap().contains(NAME));
    }
    app.stop().await;
}

async fn encrypted_pdf_is_held_sealed_and_not_served(app: TestApp) {
    let mut doc = pdf_naming_the_reporter();
    let id = Object::String(
        b"0123456789abcdef".to_vec(),
        lopdf::StringFormat::Hexadecimal,
    );
    doc.trailer.set("ID", vec![id.clone(), id]);
    let state = lopdf::EncryptionState::try_from(lopdf::EncryptionVersion::V2 {
        document: &doc,
        owner_password: "owner",
        user_password: "reporter",
        key_length: 128,
        permissions: lopdf::Permissions::all(),
    })
    .unwrap();
    doc.encrypt(&state).unwrap();
    let case = file_with_pdf(&app, bytes_of(doc)).await;
    let intake = staff(&app, "intake1", "intake", "371500").await;
    let item = listed_evidence(&app, &intake, &case).await;
    assert_eq!(item["held_sealed"], true);
    assert_eq!(item["has_working_copy"], false);
    assert!(item["working_media_type"].is_null());
    let path = format!(
        "/api/v1/cases/{case}/evidence/{}",
        item["id"].as_str().unwrap()
    );
    let res = get(&app, &intake.token, &path).await;
    assert_eq!(res.status(), 409);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"]["code"], "evidence_held_sealed");
    assert!(
        body["error"]["message"].as_str().unwrap().contains("封存"),
        "{body}"
    );
    app.stop().await;
}

/// Every case view and evidence download is in the audit log (issue 15 item 3), also when
/// many arrive at once (they share transactions), and the chain stays whole.
async fn reads_are_audited(app: TestApp) {
    let case = file_with_pdf(&app, bytes_of(pdf_naming_the_reporter())).await;
    let intake = staff(&app, "intake1", "intake", "371500").await;
    let item = listed_evidence(&app, &intake, &case).await;
    let detail_path = format!("/api/v1/cases/{case}");
    let views = (0..20).map(|_| get(&app, &intake.token, &detail_path));
    for res in futures_util::future::join_all(views).await {
        assert_eq!(res.status(), 200);
    }
    let path = format!(
        "/api/v1/cases/{case}/evidence/{}",
        item["id"].as_str().unwrap()
    );
    assert_eq!(get(&app, &intake.token, &path).await.status(), 200);
    let count = |action: &'static str| {
        let (app, case, who) = (&app, case.clone(), intake.id.clone());
        async move {
            sqlx::query_scalar::<_, i64>(
                "SELECT COUNT(*) FROM audit_log WHERE action = $1 AND report_id = $2 \
                 AND actor_id = $3 AND outcome = 'ok'",
            )
            .bind(action)
            .bind(case)
            .bind(who)
            .fetch_one(&app.db.pool)
            .await
            .unwrap()
        }
    };
    assert_eq!(count("case.view").await, 21, "one listing and twenty views");
    assert_eq!(count("evidence.download").await, 1);
    let detail: String = sqlx::query_scalar(
        "SELECT detail FROM audit_log WHERE action = 'evidence.download' AND report_id = $1",
    )
    .bind(&case)
    .fetch_one(&app.db.pool)
    .await
    .unwrap();
    assert!(detail.contains("\"variant\":\"working\""), "{detail}");
    let v = jubao::audit::verify(&app.db, app.state.vault.audit_key(), None, |_, _| {})
        .await
        .unwrap();
    assert_eq!(v.first_broken, None);
    app.stop().await;
}

/// An original may carry the reporter's name and phone: it opens only like an identity,
/// through a request a custodian approved, for the asker signed in with a second factor.
async fn originals_only_through_a_custodian(app: TestApp) {
    let pdf = bytes_of(pdf_naming_the_reporter());
    let case = file_with_pdf(&app, pdf.clone()).await;
    let intake = staff(&app, "intake1", "intake", "371500").await;
    let mut h = staff(&app, "handler1", "handler", "371502").await;
    let sup = staff(&app, "sup1", "supervisor", "371500").await;
    let cust = staff(&app, "cust1", "custodian", "371500").await;
    post_ok(
        &app,
        &intake,
        &format!("/api/v1/cases/{case}/transitions"),
        &json!({"to": "accepted", "reason": "受理"}),
        200,
    )
    .await;
    let item = listed_evidence(&app, &sup, &case).await;
    let eid = item["id"].as_str().unwrap();
    let file = format!("/api/v1/cases/{case}/evidence/{eid}");
    let code = |res: reqwest::Response| async move {
        let status = res.status().as_u16();
        let body: Value = res.json().await.unwrap_or(Value::Null);
        (
            status,
            body["error"]["code"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
        )
    };
    // A supervisor who may see the case is refused the original, with or without a made-up
    // request.
    for q in ["?variant=original", "?variant=original&request=nope"] {
        let res = get(&app, &sup.token, &format!("{file}{q}")).await;
        assert_eq!(code(res).await, (403, "original_needs_request".to_string()));
    }
    let r = post_ok(
        &app,
        &h,
        &format!("{file}/original-requests"),
        &json!({"reason": "需核对票据原件上的签章"}),
        200,
    )
    .await;
    assert_eq!(r["evidence_id"], eid);
    let rid = r["id"].as_str().unwrap().to_string();
    let original = format!("{file}?variant=original&request={rid}");
    let res = get(&app, &h.token, &original).await;
    assert_eq!(code(res).await, (409, "not_approved".to_string()));
    post_ok(
        &app,
        &cust,
        &format!("/api/v1/identity-requests/{rid}/decision"),
        &json!({"approve": true, "reason": "核对原件必要"}),
        200,
    )
    .await;
    // It opens the original, not the identity.
    let e = post_ok(
        &app,
        &h,
        &format!("/api/v1/identity-requests/{rid}/reveal"),
        &json!({}),
        409,
    )
    .await;
    assert_eq!(e["error"]["code"], "not_an_identity_request");
    let res = get(&app, &h.token, &original).await;
    assert_eq!(
        code(res).await,
        (403, "totp_required_for_identity".to_string())
    );
    // Someone else's approved request opens nothing for the supervisor.
    let res = get(&app, &sup.token, &original).await;
    assert_eq!(code(res).await, (403, "forbidden".to_string()));
    enrol_totp(&app, &mut h).await;
    let res = get(&app, &h.token, &original).await;
    assert_eq!(res.status(), 200);
    let bytes = res.bytes().await.unwrap().to_vec();
    assert_eq!(bytes, pdf, "the untouched original");
    let downloads: Vec<String> = sqlx::query_scalar(
        "SELECT detail FROM audit_log WHERE action = 'evidence.download' AND report_id = $1 \
         AND detail LIKE '%original%'",
    )
    .bind(&case)
    .fetch_all(&app.db.pool)
    .await
    .unwrap();
    assert_eq!(downloads.len(), 1, "{downloads:?}");
    assert!(downloads[0].contains(&rid));
    let refused: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM audit_log WHERE action = 'evidence.original' AND outcome = 'denied'",
    )
    .fetch_one(&app.db.pool)
    .await
    .unwrap();
    assert_eq!(refused, 5, "every refused original is audited");
    app.stop().await;
}
