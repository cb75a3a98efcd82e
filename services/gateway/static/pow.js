// Proof of work for the citizens' forms, served by the gateway itself (no third party).
// Fetches a challenge from /api/v1/pow-challenge, finds the number whose SHA-256 with
// the salt gives it (ALTCHA-style) and puts the solution into each form's hidden "pow"
// field. Without JavaScript the forms work as well: the server then relies on its
// other checks (services/gateway/web/bot_guard.py).
(function () {
  "use strict";
  var fields = document.querySelectorAll("input[name='pow'][data-pow-challenge]");
  if (!fields.length || !window.crypto || !window.crypto.subtle || !window.fetch) { return; }
  function hex(buffer) {
    return Array.prototype.map.call(new Uint8Array(buffer), function (b) {
      return ("0" + b.toString(16)).slice(-2);
    }).join("");
  }
  async function solve(ch) {
    var encoder = new TextEncoder();
    for (var n = 0; n <= ch.maxnumber; n++) {
      var digest = await window.crypto.subtle.digest("SHA-256", encoder.encode(ch.salt + n));
      if (hex(digest) === ch.challenge) { return n; }
    }
    return null;
  }
  fetch(fields[0].getAttribute("data-pow-challenge"), { credentials: "same-origin" })
    .then(function (response) { return response.json(); })
    .then(async function (ch) {
      var number = await solve(ch);
      if (number === null) { return; }
      var solution = btoa(JSON.stringify({ algorithm: ch.algorithm, challenge: ch.challenge,
        number: number, salt: ch.salt, signature: ch.signature }));
      fields.forEach(function (field) { field.value = solution; });
    })
    .catch(function () { /* the forms still work without it */ });
})();
