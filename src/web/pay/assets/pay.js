// The payment page's behaviour: countdown, copy buttons, live status.
// The countdown runs on performance.now() from the server's seconds-left and
// never reads Date (the phone's clock may be hours off). Status comes by
// long-poll; waking the phone, coming back online or showing the tab asks
// at once. No strings here: every text is in the page, in its language.
(function () {
  'use strict';
  var root = document.getElementById('pay');
  if (!root) { return; }
  var d = root.dataset;
  var state = d.state;
  var ended = d.final === 'true';
  var deadline = performance.now() + Number(d.secondsLeft) * 1000;
  var countdown = document.getElementById('countdown');
  var srLeft = document.getElementById('sr-left');
  var lastMinute = -1;
  var redirecting = false;
  var request = null;
  var timer = null;
  var failures = 0;

  function pad(n) { return (n < 10 ? '0' : '') + n; }
  function clock(s) {
    var h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), x = s % 60;
    return h > 0 ? h + ':' + pad(m) + ':' + pad(x) : pad(m) + ':' + pad(x);
  }

  function show(next) {
    state = next;
    root.dataset.state = next;
    ['pending', 'paid', 'expired', 'cancelled'].forEach(function (k) {
      var el = document.getElementById('state-' + k);
      if (el) { el.hidden = k !== next; }
    });
    if (next === 'paid' && d.return && !redirecting) {
      redirecting = true;
      setTimeout(function () { window.location.assign(d.return); }, 5000);
    }
  }

  function tick() {
    if (state !== 'pending' || !countdown) { return; }
    var left = Math.max(0, Math.ceil((deadline - performance.now()) / 1000));
    countdown.textContent = clock(left);
    var minutes = Math.ceil(left / 60);
    // Screen readers hear the time left every 5 minutes and in the last 2.
    if (minutes !== lastMinute) {
      if (lastMinute !== -1 && (minutes % 5 === 0 || minutes <= 2) && srLeft) {
        srLeft.textContent = d.minutesLeft.replace('{m}', String(minutes));
      }
      lastMinute = minutes;
    }
    if (left === 0) { show('expired'); }
  }

  function apply(data) {
    deadline = performance.now() + data.seconds_left * 1000;
    ended = data['final'];
    if (data.state !== state) { show(data.state); }
    tick();
  }

  function schedule(ms, quick) {
    clearTimeout(timer);
    if (!ended) { timer = setTimeout(function () { poll(quick); }, ms); }
  }

  // quick: answer at once (after a sleep, to resync the countdown);
  // otherwise the server holds the request until the state changes.
  function poll(quick) {
    if (ended) { return; }
    clearTimeout(timer);
    if (request && request.abort) { request.abort(); }
    var ctrl = window.AbortController ? new AbortController() : {};
    request = ctrl;
    var guard = setTimeout(function () { if (ctrl.abort) { ctrl.abort(); } }, 35000);
    var url = d.status + '?since=' + state + '&wait=' + (quick ? 0 : 25);
    fetch(url, { cache: 'no-store', signal: ctrl.signal, headers: { Accept: 'application/json' } })
      .then(function (r) { if (!r.ok) { throw new Error(String(r.status)); } return r.json(); })
      .then(function (j) {
        clearTimeout(guard);
        if (request !== ctrl) { return; }
        failures = 0;
        apply(j.data);
        schedule(j.data.retry_ms || 0, false);
      })
      .catch(function () {
        clearTimeout(guard);
        if (request !== ctrl) { return; }
        // A request that failed while waking (network not back yet) is
        // retried after 1 s, then every 2 s.
        failures += 1;
        schedule(failures === 1 ? 1000 : 2000, true);
      });
  }

  function wake() { if (document.visibilityState !== 'hidden') { poll(true); } }
  document.addEventListener('visibilitychange', wake);
  window.addEventListener('online', wake);
  window.addEventListener('pageshow', function (e) { if (e.persisted) { poll(true); } });

  function copyFallback(text) {
    var t = document.createElement('textarea');
    t.value = text;
    t.setAttribute('readonly', '');
    t.className = 'offscreen';
    document.body.appendChild(t);
    t.select();
    var ok = false;
    try { ok = document.execCommand('copy'); } catch (e) { ok = false; }
    document.body.removeChild(t);
    return ok;
  }

  Array.prototype.forEach.call(document.querySelectorAll('button.copy'), function (b) {
    b.hidden = false;
    b.addEventListener('click', function () {
      var text = b.getAttribute('data-copy');
      var out = b.nextElementSibling;
      function done() {
        out.textContent = d.copied;
        setTimeout(function () { out.textContent = ''; }, 4000);
      }
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(text).then(done, function () { if (copyFallback(text)) { done(); } });
      } else if (copyFallback(text)) {
        done();
      }
    });
  });

  setInterval(tick, 250);
  tick();
  // The page arrived with fresh status: the first held request starts once
  // it has loaded, so a long-lived request never delays the first paint.
  function start() { setTimeout(function () { if (!request) { poll(false); } }, 1000); }
  if (document.readyState === 'complete') { start(); } else { window.addEventListener('load', start); }
}());
