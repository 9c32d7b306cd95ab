//! Kinesis and DynamoDB Streams batches: records decoded from base64 data and attribute
//! values, failures reported by sequence number, records that do not decode.

use coda_handlers::batch::{Batch, Change, DynamoDb, Kinesis, NewImage, Order, Record, Text};
use coda_lambda::{Context, Diagnostic};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::support::{Seen, failed_ids, invoke, logged};

/// A Kinesis record with `data` (already base64) and sequence number `seq`.
fn kinesis(seq: &str, key: &str, data: &str) -> Value {
    json!({
        "kinesis": {
            "kinesisSchemaVersion": "1.0",
            "partitionKey": key,
            "sequenceNumber": seq,
            "data": data,
            "approximateArrivalTimestamp": 1480641523.477
        },
        "eventSource": "aws:kinesis",
        "eventVersion": "1.0",
        "eventID": format!("shardId-000000000000:{seq}"),
        "eventName": "aws:kinesis:record",
        "invokeIdentityArn": "arn:aws:iam::123456789012:role/LambdaRole",
        "awsRegion": "us-east-1",
        "eventSourceARN": "arn:aws:kinesis:us-east-1:123456789012:stream/s"
    })
}

fn b64(data: &[u8]) -> String {
    base64::Engine::encode(&base64::engine::general_purpose::STANDARD, data)
}

#[derive(Deserialize)]
struct Reading {
    sensor: String,
    value: f64,
}

/// JSON data decodes into the handler's type; data that is not JSON of it, not base64, or
/// not UTF-8 (as text) fails its record only, reported by sequence number.
#[test]
fn kinesis_records_decode_or_fail_alone() {
    let seen = Seen::default();
    let sink = seen.clone();
    let handler =
        move |r: Reading, record: &Record<Kinesis>, _: &mut Context| -> Result<(), Diagnostic> {
            sink.push(format!("{} {} {}", record.id(), r.sensor, r.value));
            if r.value < 0.0 {
                return Err("negative reading".into());
            }
            Ok(())
        };
    let event = json!({"Records": [
        kinesis("100", "k1", &b64(br#"{"sensor": "t1", "value": 21.5}"#)),
        kinesis("101", "k1", &b64(b"not json")),
        kinesis("102", "k2", "%%% not base64 %%%"),
        kinesis("103", "k2", &b64(br#"{"sensor": "t2", "value": -1}"#)),
        kinesis("104", "k1", &b64(br#"{"sensor": "t3", "value": 3}"#)),
    ]});
    let out = invoke(Batch::kinesis(handler), &event);
    assert_eq!(failed_ids(&out.json()), ["101", "102", "103"]);
    assert_eq!(seen.list(), ["100 t1 21.5", "103 t2 -1", "104 t3 3"]);
    assert!(logged(
        &out,
        &[
            "Kinesis record 101 (2 of 5) failed",
            "data is not JSON of type"
        ]
    ));
    assert!(logged(
        &out,
        &[
            "Kinesis record 102 (3 of 5) failed",
            "not a well-formed Kinesis record"
        ]
    ));

    let text = |_: Text, _: &Record<Kinesis>, _: &mut Context| -> Result<(), Diagnostic> { Ok(()) };
    let event = json!({"Records": [
        kinesis("200", "k", &b64(b"fine")),
        kinesis("201", "k", &b64(&[0xff, 0xfe])),
    ]});
    let out = invoke(Batch::kinesis(text), &event);
    assert_eq!(failed_ids(&out.json()), ["201"]);
    assert!(logged(
        &out,
        &[
            "Kinesis record 201",
            "data is not UTF-8 text: take it as `Binary`"
        ]
    ));
}

/// Per group on a stream is per partition key.
#[test]
fn kinesis_per_partition_key() {
    let seen = Seen::default();
    let sink = seen.clone();
    let handler =
        move |t: Text, record: &Record<Kinesis>, _: &mut Context| -> Result<(), Diagnostic> {
            sink.push(record.id());
            if t.0 == "fail" {
                Err("failed".into())
            } else {
                Ok(())
            }
        };
    let event = json!({"Records": [
        kinesis("1", "a", &b64(b"fail")),
        kinesis("2", "b", &b64(b"ok")),
        kinesis("3", "a", &b64(b"ok")),
    ]});
    let out = invoke(Batch::kinesis(handler).order(Order::PerGroup), &event);
    assert_eq!(failed_ids(&out.json()), ["1", "3"]);
    assert_eq!(seen.list(), ["1", "2"]);
}

/// A DynamoDB Streams record of `name` with the given images.
fn change(seq: &str, name: &str, keys: Value, old: Option<Value>, new: Option<Value>) -> Value {
    let mut dynamodb = json!({
        "ApproximateCreationDateTime": 1480642020,
        "Keys": keys,
        "SequenceNumber": seq,
        "SizeBytes": 26,
        "StreamViewType": "NEW_AND_OLD_IMAGES"
    });
    if let Some(old) = old {
        dynamodb["OldImage"] = old;
    }
    if let Some(new) = new {
        dynamodb["NewImage"] = new;
    }
    json!({
        "eventID": format!("e-{seq}"),
        "eventName": name,
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": "us-east-1",
        "dynamodb": dynamodb,
        "eventSourceARN": "arn:aws:dynamodb:us-east-1:123456789012:table/T/stream/2016"
    })
}

#[derive(Debug, Deserialize, PartialEq)]
struct Account {
    id: String,
    balance: i64,
}

/// Images decode into serde types: an INSERT has a new image only, a REMOVE an old one only,
/// a MODIFY both; `NewImage` on a REMOVE fails that record (it has none), and an image that
/// does not fit the type fails its record, reported by sequence number.
#[test]
fn dynamodb_images() {
    let account =
        |id: &str, balance: i64| json!({"id": {"S": id}, "balance": {"N": balance.to_string()}});
    let key = |id: &str| json!({"id": {"S": id}});
    let event = json!({"Records": [
        change("1", "INSERT", key("a"), None, Some(account("a", 10))),
        change("2", "MODIFY", key("a"), Some(account("a", 10)), Some(account("a", 25))),
        change("3", "REMOVE", key("a"), Some(account("a", 25)), None),
        change("4", "INSERT", key("b"), None, Some(json!({"id": {"S": "b"}, "balance": {"S": "lots"}}))),
    ]});
    let seen = Seen::default();
    let sink = seen.clone();
    let handler = move |c: Change<Account>,
                        record: &Record<DynamoDb>,
                        _: &mut Context|
          -> Result<(), Diagnostic> {
        sink.push(format!(
            "{} {} {:?} -> {:?}",
            record.id(),
            record.event_name,
            c.old,
            c.new
        ));
        Ok(())
    };
    let out = invoke(Batch::dynamodb(handler), &event);
    assert_eq!(failed_ids(&out.json()), ["4"]);
    let a = |b| format!("Account {{ id: \"a\", balance: {b} }}");
    assert_eq!(
        seen.list(),
        [
            format!("1 INSERT None -> Some({})", a(10)),
            format!("2 MODIFY Some({}) -> Some({})", a(10), a(25)),
            format!("3 REMOVE Some({}) -> None", a(25)),
        ]
    );
    assert!(logged(
        &out,
        &[
            "DynamoDB Streams record 4 (4 of 4) failed",
            "NewImage does not decode as",
            "Account"
        ]
    ));

    let new_only =
        |n: NewImage<Account>, _: &Record<DynamoDb>, _: &mut Context| -> Result<(), Diagnostic> {
            assert!(n.0.balance > 0);
            Ok(())
        };
    let out = invoke(Batch::dynamodb(new_only), &event);
    assert_eq!(failed_ids(&out.json()), ["3", "4"]);
    assert!(logged(&out, &["record 3", "the record has no NewImage"]));
}
