<?php
// A paycue webhook receiver: PHP 7.3+, no dependencies.
//
// Verifies the Standard Webhooks signature, ignores events it has already seen
// (paycue delivers at least once, with the same event_id on every retry), and
// answers 2xx so paycue stops retrying. Put your order logic in handle().
//
//     WEBHOOK_SECRET=whsec_... php -S 127.0.0.1:8000 receiver.php
// (behind nginx/Apache, point WEBHOOK_URL at this file instead)

const TOLERANCE = 300; // seconds; older or future timestamps are replays

function verify(string $key, string $body): bool {
    $id = $_SERVER['HTTP_WEBHOOK_ID'] ?? '';
    $timestamp = $_SERVER['HTTP_WEBHOOK_TIMESTAMP'] ?? '';
    $signatures = $_SERVER['HTTP_WEBHOOK_SIGNATURE'] ?? '';
    if ($id === '' || !ctype_digit($timestamp) || $signatures === '') {
        return false;
    }
    if (abs(time() - (int) $timestamp) > TOLERANCE) {
        return false;
    }
    $expected = 'v1,' . base64_encode(hash_hmac('sha256', "$id.$timestamp.$body", $key, true));
    foreach (explode(' ', $signatures) as $given) {
        if (hash_equals($expected, $given)) {
            return true;
        }
    }
    return false;
}

// Your shop's logic. Use your database to remember event_ids (a unique index):
// this example keeps them in a file beside it.
function handle(array $event): void {
    file_put_contents('php://stderr', describe($event) . "\n");
}

function describe(array $event): string {
    switch ($event['action']) {
        case 'confirm':
            return "paid: transaction {$event['transaction_id']} amount {$event['amount']}";
        case 'cancel':
            return "cancelled: transaction {$event['transaction_id']}";
        case 'late':
            return "LATE payment for ended transaction {$event['transaction_id']}: check by hand";
        default: // "test" from `paycue check --send-test`, or an action added later
            return "{$event['action']}: event {$event['event_id']} acknowledged";
    }
}

$secret = getenv('WEBHOOK_SECRET') ?: '';
if (strpos($secret, 'whsec_') !== 0) {
    http_response_code(500);
    exit("set WEBHOOK_SECRET to the same whsec_... value as paycue's WEBHOOK_SECRET\n");
}
$body = file_get_contents('php://input'); // verify the raw bytes, before parsing
if ($_SERVER['REQUEST_METHOD'] !== 'POST' || !verify(base64_decode(substr($secret, 6)), $body)) {
    http_response_code(401);
    exit("bad signature\n");
}
// JSON_BIGINT_AS_STRING keeps large amounts exact; decimals arrive as floats,
// so compare amounts as strings if your prices have decimals.
$event = json_decode($body, true, 512, JSON_BIGINT_AS_STRING);
if (!is_array($event)) {
    http_response_code(400);
    exit("not JSON\n");
}
$seenFile = sys_get_temp_dir() . '/paycue-seen-events';
$seen = is_file($seenFile) ? file($seenFile, FILE_IGNORE_NEW_LINES) : [];
if (!in_array($event['event_id'], $seen, true)) {
    handle($event);
    file_put_contents($seenFile, $event['event_id'] . "\n", FILE_APPEND | LOCK_EX);
}
http_response_code(204);
