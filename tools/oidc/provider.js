// Copyright (C) ngx_http_authz_module authors
//
// The OpenID provider of t/authz_oidc.t: oidc-provider (node-oidc-provider,
// an OpenID Certified implementation) configured as a resource owner's
// authorization server for machine-to-machine calls:
//
// - the client credentials grant, clients authenticated with
//   client_secret_basic;
// - RFC 8707 resource indicators: each resource server below gets
//   RS256-signed RFC 9068 access tokens ("typ": "at+jwt") whose "aud" is
//   the resource URI, with the scopes it defines;
// - extraTokenClaims adds the tenant ("tid") and the enabled services.
//
// Installed and started by the test (tools/oidc/setup.sh copies this file
// next to build/oidc/node_modules):
//
//     node build/oidc/provider.js PORT ISSUER KEYFILE [CLOCK_OFFSET]
//
// PORT: where it listens, on 127.0.0.1 only.  ISSUER: its issuer URL
// (normally http://127.0.0.1:PORT).  KEYFILE: an RSA private key in PEM,
// the signing key, published at the jwks_uri with "kid" "oidc-test-1".
// CLOCK_OFFSET: seconds added to the provider's clock (negative: tokens
// issued in the past, already expired).  Prints "listening PORT" when
// ready; stops on SIGTERM, and when the process that started it exits.

import { readFileSync } from 'node:fs';
import { createPrivateKey } from 'node:crypto';

import Provider, { errors } from 'oidc-provider';

const [port, issuer, keyfile, offset] = process.argv.slice(2);

if (!port || !issuer || !keyfile) {
    console.error('usage: node provider.js PORT ISSUER KEYFILE [CLOCK_OFFSET]');
    process.exit(2);
}

// a configured clock: oidc-provider takes every time from Date.now()
const skew = Number(offset || 0) * 1000;
if (skew) {
    const now = Date.now;
    Date.now = () => now() + skew;
}

const key = createPrivateKey(readFileSync(keyfile)).export({ format: 'jwk' });
Object.assign(key, { kid: 'oidc-test-1', use: 'sig', alg: 'RS256' });

// the resource servers (RFC 8707 resource indicators) and their scopes
const resources = {
    'https://api.example.com/orders': 'orders:read orders:write',
    'https://api.example.com/billing': 'billing:read',
};

const provider = new Provider(issuer, {
    clients: [
        {
            client_id: 'orders-service',
            client_secret: 'orders-service-secret-7d1f0c2b9a',
            grant_types: ['client_credentials'],
            redirect_uris: [],
            response_types: [],
            token_endpoint_auth_method: 'client_secret_basic',
            scope: 'orders:read orders:write billing:read',
        },
    ],
    scopes: ['orders:read', 'orders:write', 'billing:read'],
    jwks: { keys: [key] },
    cookies: { keys: ['authz-oidc-test-cookie-key'] },
    features: {
        devInteractions: { enabled: false },
        clientCredentials: { enabled: true },
        resourceIndicators: {
            enabled: true,
            defaultResource: async () => undefined,
            useGrantedResource: async () => false,
            getResourceServerInfo: async (ctx, resource) => {
                if (!Object.hasOwn(resources, resource)) {
                    throw new errors.InvalidTarget();
                }
                return {
                    scope: resources[resource],
                    audience: resource,
                    accessTokenTTL: 300,
                    accessTokenFormat: 'jwt',
                    jwt: { sign: { alg: 'RS256' } },
                };
            },
        },
    },
    ttl: { ClientCredentials: 300 },
    extraTokenClaims: async () => ({ tid: 'acme', services: ['orders'] }),
});

const server = provider.listen(Number(port), '127.0.0.1', () => {
    console.log(`listening ${port}`);
});

process.on('SIGTERM', () => process.exit(0));

// the test that started it is gone (killed without its cleanup): stop too.
// The parent is read from the kernel (process.ppid is cached); imports
// run first, so the parent may be gone already (then this is init, 1).
function ppid() {
    try {
        const stat = readFileSync('/proc/self/stat', 'utf8');
        return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    } catch {
        return process.ppid;
    }
}

const parent = ppid();

setInterval(() => {
    if (parent === 1 || ppid() !== parent) {
        process.exit(0);
    }
}, 500).unref();
