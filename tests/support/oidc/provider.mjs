// A real OpenID provider (oidc-provider) on loopback for the sign-in tests.
//
// Usage: node provider.mjs CONFIG.json
// CONFIG: {"port": 0, "clients": [...oidc-provider client metadata...],
//          "accounts": {"<login>": {"acr": "...", ...claims}}, "jwks": {"keys": [...]}}
// The sign-in form names an account of CONFIG.accounts (no password: a test provider);
// the account's "acr" becomes the ID token's acr. Its pages load nothing from elsewhere.
// Prints "listening <issuer>" when it takes requests.
import { readFileSync } from 'node:fs';
import http from 'node:http';
import Provider from 'oidc-provider';

const config = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const server = http.createServer();
await new Promise((resolve) => server.listen(config.port || 0, '127.0.0.1', resolve));
const issuer = `http://127.0.0.1:${server.address().port}`;

const escape = (s) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const html = (title, body) => `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">` +
  `<title>${escape(title)}</title></head><body><main><h1>${escape(title)}</h1>${body}</main></body></html>`;

const provider = new Provider(issuer, {
  clients: config.clients,
  jwks: config.jwks,
  cookies: { keys: ['test-provider-cookie-key'] },
  async findAccount(ctx, id) {
    const account = config.accounts[id];
    if (!account) return undefined;
    const { acr, ...claims } = account;
    return { accountId: id, async claims() { return { sub: id, ...claims }; } };
  },
  acrValues: ['low', 'substantial', 'high', 'urn:test:staff'],
  claims: {
    acr: null, auth_time: null, sid: null,
    openid: ['sub', 'acr'],  // the trust level of the sign-in, as eID providers state it
    email: ['email', 'email_verified'],
    profile: ['name', 'given_name', 'family_name'],
    groups: ['groups'],
    address: ['address'],
  },
  // Claims of the granted scopes go into the ID token too, as Keycloak and ADFS do.
  conformIdTokenClaims: false,
  pkce: { methods: ['S256'], required: () => true },
  features: {
    devInteractions: { enabled: false },
    rpInitiatedLogout: {
      enabled: true,
      async logoutSource(ctx, form) {
        ctx.body = html('Sign out', `${form}<button form="op.logoutForm" name="logout" value="yes">Sign out</button>`);
      },
      async postLogoutSuccessSource(ctx) {
        ctx.body = html('Signed out', '<p>You are signed out.</p>');
      },
    },
  },
  // Every scope the client asks for is granted: no consent screen in the tests.
  async loadExistingGrant(ctx) {
    const grant = new provider.Grant({ clientId: ctx.oidc.client.clientId,
                                       accountId: ctx.oidc.session.accountId });
    grant.addOIDCScope([...(ctx.oidc.requestParamScopes || ['openid'])].join(' '));
    await grant.save();
    return grant;
  },
  ttl: { AuthorizationCode: 60, IdToken: 300, AccessToken: 300, Session: 600, Interaction: 600,
         Grant: 600 },
  async renderError(ctx, out) {
    ctx.type = 'html';
    ctx.body = html(out.error, `<p>${escape(out.error_description || '')}</p>`);
  },
});
provider.on('server_error', (ctx, err) => console.error('server_error', err));

async function interaction(req, res) {
  const match = req.url.match(/^\/interaction\/([\w-]+)(\/login)?$/);
  if (!match) return false;
  const details = await provider.interactionDetails(req, res);
  if (!match[2]) {
    res.setHeader('Content-Type', 'text/html; charset=utf-8');
    res.end(html('Test provider: sign in',
      `<form method="post" action="/interaction/${escape(details.uid)}/login">` +
      '<label for="login">Login</label> <input id="login" name="login" autocomplete="off"> ' +
      '<button type="submit">Sign in</button></form>'));
    return true;
  }
  let body = '';
  for await (const chunk of req) body += chunk;
  const login = new URLSearchParams(body).get('login') || '';
  const account = config.accounts[login];
  if (!account) {
    res.statusCode = 400;
    res.setHeader('Content-Type', 'text/html; charset=utf-8');
    res.end(html('Unknown login', '<p>No such test account.</p>'));
    return true;
  }
  await provider.interactionFinished(req, res, { login: { accountId: login, acr: account.acr } },
                                     { mergeWithLastSubmission: false });
  return true;
}

const callback = provider.callback();
server.on('request', async (req, res) => {
  try {
    if (await interaction(req, res)) return;
  } catch (err) {
    console.error('interaction', err);
    res.statusCode = 400;
    res.end(html('Interaction failed', `<p>${escape(err.message)}</p>`));
    return;
  }
  callback(req, res);
});
console.log(`listening ${issuer}`);
