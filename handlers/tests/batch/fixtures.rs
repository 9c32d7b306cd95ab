//! The batch fixtures (real events, from `aws_lambda_events`' test data, copied into
//! `tests/data/`) through the real loop: what each record handler gets, field by field, and
//! the response fixture reproduced.

use coda_emulator::Invoke;
use coda_emulator::testing;
use coda_handlers::batch::{
    AllFailed, Batch, Binary, Change, DynamoDb, Keys, Kinesis, NewImage, Record, Sqs, Text,
};
use coda_lambda::{Context, Diagnostic};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::support::{Seen, failed_ids, fixture, fixture_json, invoke};

/// `example-sqs-event.json`: one message, every field as the record handler reads it.
#[test]
fn sqs_event_field_by_field() {
    let seen = Seen::default();
    let sink = seen.clone();
    let batch = Batch::sqs(
        move |body: Text, record: &Record<Sqs>, _: &mut Context| -> Result<(), Diagnostic> {
            let attribute = |name: &str| record.message_attributes.get(name).unwrap();
            sink.push(format!("id {} of {}", record.id(), record.batch_len()));
            sink.push(format!("body {}", body.0));
            sink.push(format!("handle {:?}", record.receipt_handle));
            sink.push(format!("md5 {:?}", record.md5_of_body));
            sink.push(format!(
                "receive count {}",
                record.attributes["ApproximateReceiveCount"]
            ));
            sink.push(format!("sender {}", record.attributes["SenderId"]));
            sink.push(format!("arn {:?}", record.event_source_arn));
            sink.push(format!("source {:?}", record.event_source));
            sink.push(format!("region {:?}", record.aws_region));
            sink.push(format!("a1 {:?}", attribute("Attribute1").string_value));
            sink.push(format!("a2 {:?}", attribute("Attribute2").data_type));
            let a3 = attribute("Attribute3");
            sink.push(format!(
                "a3 {:?} {:?} {}",
                a3.binary_value.as_deref().map(|b| b.to_vec()),
                a3.string_list_values,
                a3.binary_list_values.len()
            ));
            Ok(())
        },
    );
    let out = testing::invoke_with(batch, Invoke::new(fixture("example-sqs-event.json")));
    assert_eq!(out.json(), json!({"batchItemFailures": []}));
    assert_eq!(
        seen.list(),
        [
            "id MessageID_1 of 1",
            "body Message Body",
            "handle Some(\"MessageReceiptHandle\")",
            "md5 Some(\"fce0ea8dd236ccb3ed9b37dae260836f\")",
            "receive count 2",
            "sender AROAIWPX5BD2BHG722MW4:sender",
            "arn Some(\"arn:aws:sqs:us-west-2:123456789012:SQSQueue\")",
            "source Some(\"aws:sqs\")",
            "region Some(\"us-west-2\")",
            "a1 Some(\"AttributeValue1\")",
            "a2 Some(\"Number\")",
            "a3 Some([49, 49, 48, 48]) [\"abc\", \"123\"] 3",
        ]
    );
}

/// The fixture's body, "Message Body", is not JSON: as a JSON type the only record fails to
/// decode, so every record failed — the invocation fails by default, and with
/// `AllFailed::Report` the answer lists it.
#[test]
fn sqs_fixture_body_that_is_not_json() {
    #[derive(Deserialize)]
    struct Order {
        #[allow(dead_code)]
        id: String,
    }
    let handler = |_: Order, _: &Record<Sqs>, _: &mut Context| -> Result<(), Diagnostic> {
        panic!("never called: the body does not decode")
    };
    let out = testing::invoke_with(
        Batch::sqs(handler),
        Invoke::new(fixture("example-sqs-event.json")),
    );
    let error = out.error().expect("the invocation failed");
    assert_eq!(error.error_type(), "Function.BatchProcessingError");
    assert!(
        error
            .message()
            .contains("all 1 records of the SQS batch failed"),
        "{error}"
    );
    assert_eq!(error.stack_trace().len(), 1, "{error}");
    assert!(
        error.stack_trace()[0]
            .starts_with("record MessageID_1: the record's body is not JSON of type"),
        "{error}"
    );
    let out = testing::invoke_with(
        Batch::sqs(handler).when_all_fail(AllFailed::Report),
        Invoke::new(fixture("example-sqs-event.json")),
    );
    assert_eq!(failed_ids(&out.json()), ["MessageID_1"]);
}

/// `example-sqs-batch-response.json`: five messages of which `id2` and `id4` fail answer
/// exactly the fixture.
#[test]
fn sqs_batch_response_fixture() {
    let event = crate::support::jobs(&[
        ("id1", "ok"),
        ("id2", "fail"),
        ("id3", "ok"),
        ("id4", "fail"),
        ("id5", "ok"),
    ]);
    let handler = |job: Value, _: &Record<Sqs>, _: &mut Context| -> Result<(), Diagnostic> {
        match job["do"].as_str() {
            Some("ok") => Ok(()),
            _ => Err("refused".into()),
        }
    };
    let out = invoke(Batch::sqs(handler), &event);
    assert_eq!(out.json(), fixture_json("example-sqs-batch-response.json"));
}

/// `example-kinesis-event.json`: both records' data base64-decoded, as text and as bytes,
/// with their sequence numbers, partition keys and arrival times.
#[test]
fn kinesis_event_field_by_field() {
    let seen = Seen::default();
    let sink = seen.clone();
    let batch = Batch::kinesis(
        move |data: Text, record: &Record<Kinesis>, _: &mut Context| -> Result<(), Diagnostic> {
            sink.push(format!(
                "{} {} {} {} {:?}",
                record.index(),
                record.id(),
                data.0,
                record.kinesis.partition_key,
                record.event_id
            ));
            sink.push(format!(
                "arrived {}",
                record
                    .kinesis
                    .approximate_arrival_timestamp
                    .timestamp_millis()
            ));
            Ok(())
        },
    );
    let out = testing::invoke_with(batch, Invoke::new(fixture("example-kinesis-event.json")));
    assert_eq!(out.json(), json!({"batchItemFailures": []}));
    let first = "49568167373333333333333333333333333333333333333333333333";
    let second = "49568167373333333334444444444444444444444444444444444444";
    assert_eq!(
        seen.list(),
        [
            format!("0 {first} Hello World s1 Some(\"shardId-000000000000:{first}\")"),
            "arrived 1480641523477".to_owned(),
            format!("1 {second} Hello World s1 Some(\"shardId-000000000000:{second}\")"),
            "arrived 1480841523477".to_owned(),
        ]
    );

    // As bytes; the second record fails and is reported by its sequence number.
    let batch = Batch::kinesis(
        |data: Binary, record: &Record<Kinesis>, _: &mut Context| -> Result<(), Diagnostic> {
            assert_eq!(data.0, b"Hello World");
            match record.index() {
                0 => Ok(()),
                _ => Err("the second fails".into()),
            }
        },
    );
    let out = testing::invoke_with(batch, Invoke::new(fixture("example-kinesis-event.json")));
    assert_eq!(failed_ids(&out.json()), [second]);
}

/// The items of `example-dynamodb-event.json`'s first record.
#[derive(Debug, Deserialize, PartialEq)]
struct Pair {
    key: String,
    val: String,
}

/// Bytes as a DynamoDB `B` attribute decodes (serde_dynamo hands them to `visit_bytes`, which
/// neither `Vec<u8>` nor `serde_json::Value` accepts).
#[derive(Debug, PartialEq)]
struct Blob(Vec<u8>);

impl<'de> Deserialize<'de> for Blob {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Blob, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = Blob;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("bytes")
            }
            fn visit_bytes<E>(self, v: &[u8]) -> Result<Blob, E> {
                Ok(Blob(v.to_vec()))
            }
        }
        d.deserialize_bytes(Visitor)
    }
}

/// A map attribute.
#[derive(Debug, Deserialize, PartialEq)]
#[serde(rename_all = "PascalCase")]
struct Person {
    name: String,
    age: u32,
}

/// A list attribute's elements: strings and a number.
#[derive(Debug, Deserialize, PartialEq)]
#[serde(untagged)]
enum Element {
    Text(String),
    Number(f64),
}

/// The second record's new image: one attribute of every attribute-value type.
#[derive(Debug, Deserialize, PartialEq)]
#[serde(rename_all = "PascalCase")]
struct Everything {
    #[serde(rename = "b2")]
    b2: Blob,
    binary: Blob,
    binary_set: Vec<Blob>,
    boolean: bool,
    list: Vec<Element>,
    map: Person,
    float_number: f64,
    integer_number: i64,
    number_set: Vec<f64>,
    null: Option<String>,
    string: String,
    string_set: Vec<String>,
    empty_string_set: Vec<String>,
}

/// `example-dynamodb-event.json`: both records' images into serde types — the keys, a new
/// image of strings, and one with every attribute-value type — with the change's metadata.
#[test]
#[allow(clippy::approx_constant)] // the fixture's number is 3.14159, not π
fn dynamodb_event_field_by_field() {
    let seen = Seen::default();
    let sink = seen.clone();
    let batch = Batch::dynamodb(
        move |change: Change<Pair>,
              record: &Record<DynamoDb>,
              _: &mut Context|
              -> Result<(), Diagnostic> {
            let keys: Keys<Pair> = coda_handlers::batch::Decode::decode(record.message())?;
            sink.push(format!(
                "{} {} {} {:?} {:?} {:?} {:?}",
                record.index(),
                record.id(),
                record.event_name,
                record.change.stream_view_type,
                change.old,
                change.new,
                keys.0
            ));
            Ok(())
        },
    );
    let out = testing::invoke_with(batch, Invoke::new(fixture("example-dynamodb-event.json")));
    assert_eq!(out.json(), json!({"batchItemFailures": []}));
    // Both records carry the same sequence number in this fixture.
    let id = "1405400000000002063282832";
    let pair = r#"Some(Pair { key: "binary", val: "data" })"#;
    let line = |i| {
        format!(
            "{i} {id} INSERT Some(NewAndOldImages) None {pair} Pair {{ key: \"binary\", val: \"data\" }}"
        )
    };
    assert_eq!(seen.list(), [line(0), line(1)]);

    // Every attribute type of the second record; the first lacks them, fails to decode, and
    // is reported by its sequence number.
    let everything = Seen::default();
    let sink = everything.clone();
    let batch = Batch::dynamodb(
        move |item: NewImage<Everything>,
              _: &Record<DynamoDb>,
              _: &mut Context|
              -> Result<(), Diagnostic> {
            let expected = Everything {
                b2: Blob(vec![0xb5, 0xeb, 0x2d]),
                binary: Blob(vec![0, 1, 42, 65]),
                binary_set: vec![Blob(vec![0, 1, 42, 65]), Blob(vec![0, 1, 42, 65])],
                boolean: true,
                list: vec![
                    Element::Text("Cookies".into()),
                    Element::Text("Coffee".into()),
                    Element::Number(3.14159),
                ],
                map: Person {
                    name: "Joe".into(),
                    age: 35,
                },
                float_number: 123.45,
                integer_number: 123,
                number_set: vec![1234.0, 567.8],
                null: None,
                string: "Hello".into(),
                string_set: vec!["Giraffe".into(), "Zebra".into()],
                empty_string_set: vec![],
            };
            assert_eq!(item.0, expected);
            sink.push("decoded");
            Ok(())
        },
    );
    let out = testing::invoke_with(batch, Invoke::new(fixture("example-dynamodb-event.json")));
    assert_eq!(failed_ids(&out.json()), [id]);
    assert_eq!(everything.list(), ["decoded"]);
    assert!(
        crate::support::logged(
            &out,
            &[
                id,
                "(1 of 2)",
                "NewImage does not decode as",
                "Everything",
                "missing field"
            ]
        ),
        "{:?}",
        out.logs()
    );
}
