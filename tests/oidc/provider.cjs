// A real OpenID Connect provider on loopback for the login tests: panva's
// oidc-provider (installed by scripts/setup-oidc-provider), with one
// confidential client and dev interactions (any login and password).
//
//   NODE_PATH="$(scripts/setup-oidc-provider)/node_modules" \
//     node tests/oidc/provider.cjs PORT REDIRECT_URI
//
// Prints `oidc-provider ready http://127.0.0.1:PORT` on stdout once listening;
// everything else (oidc-provider's notices included) goes to stderr. Exits on
// SIGTERM or SIGINT.
//
// Accounts: any login name N signs in as sub=N, email N@example.com,
// oncall_tenant "acme", oncall_role "oncall" ("viewer" for login viewer-user).
// With scope "openid email oncall" those claims (and the nonce) are in the ID
// token itself, signed RS256 with a key made at startup.
'use strict';

const crypto = require('node:crypto');
const { pathToFileURL } = require('node:url');

// oidc-provider's notices use console.info (stdout); keep stdout for the
// ready line only.
console.info = (...args) => console.error(...args);
console.log = (...args) => console.error(...args);

// oidc-provider 9 is ESM-only, and import() does not honour NODE_PATH: resolve
// the package's entry point with require.resolve (which does; the package has
// no "exports" map, only "main") and import() that file.
async function loadProvider() {
  let entry;
  try {
    entry = require.resolve('oidc-provider');
  } catch (_) {
    throw new Error('oidc-provider not found: set NODE_PATH to "$(scripts/setup-oidc-provider)/node_modules"');
  }
  const mod = await import(pathToFileURL(entry).href);
  return mod.default || mod.Provider;
}

function signingKey() {
  const { privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = privateKey.export({ format: 'jwk' });
  return { ...jwk, kid: `oncall-test-${crypto.randomBytes(4).toString('hex')}`, use: 'sig', alg: 'RS256' };
}

async function main() {
  const [portArg, redirectUri] = process.argv.slice(2);
  const port = Number(portArg);
  if (!Number.isInteger(port) || port <= 0 || port > 65535 || !redirectUri) {
    console.error('usage: node tests/oidc/provider.cjs PORT REDIRECT_URI');
    process.exit(2);
  }
  const issuer = `http://127.0.0.1:${port}`;
  const Provider = await loadProvider();

  const configuration = {
    clients: [{
      client_id: 'oncall',
      client_secret: 'oncall-test-secret',
      redirect_uris: [redirectUri],
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
      id_token_signed_response_alg: 'RS256',
    }],
    // Any login name is an account.
    async findAccount(ctx, sub) {
      return {
        accountId: sub,
        async claims() {
          return {
            sub,
            email: `${sub}@example.com`,
            oncall_tenant: 'acme',
            oncall_role: sub === 'viewer-user' ? 'viewer' : 'oncall',
          };
        },
      };
    },
    // Each key is a scope naming the claims it releases.
    claims: {
      openid: ['sub'],
      email: ['email'],
      oncall: ['oncall_tenant', 'oncall_role'],
    },
    scopes: ['openid', 'email', 'oncall'],
    // Put the scope-granted claims in the ID token, not only in userinfo.
    conformIdTokenClaims: false,
    // PKCE (S256, the only method oidc-provider 9 takes) for every request,
    // though the client is confidential.
    pkce: { required: () => true },
    features: {
      devInteractions: { enabled: true },
    },
    jwks: { keys: [signingKey()] },
    cookies: { keys: ['oncall-test-cookie-key-1', 'oncall-test-cookie-key-2'] },
    ttl: {
      AccessToken: 3600,
      AuthorizationCode: 600,
      IdToken: 3600,
      Interaction: 3600,
      Session: 86400,
      Grant: 86400,
    },
  };

  const provider = new Provider(issuer, configuration);
  provider.proxy = false;
  provider.on('server_error', (ctx, err) => console.error('oidc-provider server_error:', err));

  const server = provider.listen(port, '127.0.0.1');
  server.on('error', (err) => {
    console.error(`oidc-provider: cannot listen on 127.0.0.1:${port}: ${err.message}`);
    process.exit(1);
  });
  server.on('listening', () => {
    process.stdout.write(`oidc-provider ready ${issuer}\n`);
  });

  const stop = () => {
    server.close(() => process.exit(0));
    // Keep-alive connections may hold close() open; don't wait for them.
    setTimeout(() => process.exit(0), 500).unref();
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main().catch((err) => {
  console.error('oidc-provider failed to start:', err);
  process.exit(1);
});
