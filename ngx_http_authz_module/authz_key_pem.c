/*
 * Copyright (C) ngx_http_authz_module authors
 *
 * nginx-free core: public keys from PEM blocks (SubjectPublicKeyInfo,
 * PKCS#1 RSAPublicKey, X.509 certificates); the key policy is
 * authz_key_add()'s.
 */


#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "authz_key_int.h"


static EVP_PKEY *authz_key_pem_block(authz_key_load_t *ld, const char *name,
    const unsigned char *data, long len, const char *id);


int
authz_key_pem(authz_key_load_t *ld, const unsigned char *p, size_t len,
    const char *kid, size_t kid_len)
{
    int             rc;
    BIO            *bio;
    long            dlen;
    char           *name, *header;
    size_t          count, i;
    EVP_PKEY       *pkey;
    unsigned long   e;
    unsigned char  *data;
    char            id[32];

    if (len > INT_MAX) {
        authz_key_error(ld, "key file too large");
        return -1;
    }

    /*
     * PEM_read_bio() silently skips lines it cannot read as a block start;
     * every "-----BEGIN " in the file must be a block, or one key would
     * be lost without a word
     */

    count = authz_key_count(p, len, AUTHZ_PEM_BEGIN);

    bio = BIO_new_mem_buf(p, (int) len);
    if (bio == NULL) {
        authz_key_error(ld, "out of memory");
        return -1;
    }

    rc = -1;
    name = NULL;
    header = NULL;
    data = NULL;
    id[0] = '\0';

    for (i = 0; /* void */; i++) {

        if (PEM_read_bio(bio, &name, &header, &data, &dlen) != 1) {
            e = ERR_peek_last_error();

            if (ERR_GET_LIB(e) == ERR_LIB_PEM
                && ERR_GET_REASON(e) == PEM_R_NO_START_LINE)
            {
                break;
            }

            authz_key_error(ld, "malformed PEM block #%zu (%s)", i + 1,
                            authz_key_ssl_reason());
            goto failed;
        }

        if (count > 1) {
            snprintf(id, sizeof(id), "PEM block #%zu: ", i + 1);
        }

        /* a safety net: a private key does not belong on a gateway */

        if (strstr(name, "PRIVATE KEY") != NULL) {
            authz_key_error(ld, "%sprivate key found: "
                            "configure the public key only", id);
            goto failed;
        }

        if (header[0] != '\0') {
            authz_key_error(ld, "%sPEM headers are not supported", id);
            goto failed;
        }

        pkey = authz_key_pem_block(ld, name, data, dlen, id);
        if (pkey == NULL) {
            goto failed;
        }

        OPENSSL_free(name);
        OPENSSL_free(header);
        OPENSSL_free(data);
        name = NULL;
        header = NULL;
        data = NULL;

        /* several PEM keys may share pem_kid: they are tried in order */

        if (authz_key_add(ld, pkey, kid, kid_len, 0, 0, id) != 0) {
            goto failed;
        }
    }

    if (i == 0) {
        authz_key_error(ld, "no complete PEM block found");
        goto failed;
    }

    if (i != count) {
        authz_key_error(ld, "malformed PEM block: %zu \"-----BEGIN\" lines, "
                        "%zu readable", count, i);
        goto failed;
    }

    rc = 0;

failed:

    OPENSSL_free(name);
    OPENSSL_free(header);
    OPENSSL_free(data);
    BIO_free(bio);

    return rc;
}


static EVP_PKEY *
authz_key_pem_block(authz_key_load_t *ld, const char *name,
    const unsigned char *data, long len, const char *id)
{
    X509                 *x509;
    EVP_PKEY             *pkey;
    const unsigned char  *p;
    char                  safe[48];

    p = data;

    if (strcmp(name, "PUBLIC KEY") == 0) {
        pkey = d2i_PUBKEY(NULL, &p, len);

    } else if (strcmp(name, "RSA PUBLIC KEY") == 0) {
        /* PKCS#1 RSAPublicKey (PEM_read_bio_RSAPublicKey is deprecated) */
        pkey = d2i_PublicKey(EVP_PKEY_RSA, NULL, &p, len);

    } else if (strcmp(name, "CERTIFICATE") == 0) {

        /*
         * the certificate only carries the public key: its validity dates,
         * issuer, extensions and chain are deliberately not checked, the
         * operator pins this very key (a rotated-out certificate keeps
         * verifying until it is removed from the configuration)
         */

        x509 = d2i_X509(NULL, &p, len);
        if (x509 == NULL) {
            authz_key_error(ld, "%sbad \"CERTIFICATE\" block (%s)", id,
                            authz_key_ssl_reason());
            return NULL;
        }

        pkey = X509_get_pubkey(x509);
        X509_free(x509);

        if (pkey == NULL) {
            authz_key_error(ld, "%sunsupported public key in certificate "
                            "(%s)", id, authz_key_ssl_reason());
            return NULL;
        }

    } else {
        authz_key_printable(safe, sizeof(safe), name, strlen(name));
        authz_key_error(ld, "%sunsupported PEM block \"%s\"", id, safe);
        return NULL;
    }

    if (pkey == NULL) {
        authz_key_error(ld, "%sbad \"%s\" block (%s)", id, name,
                        authz_key_ssl_reason());
        return NULL;
    }

    if (p != data + len) {
        EVP_PKEY_free(pkey);
        authz_key_error(ld, "%strailing data in \"%s\" block", id, name);
        return NULL;
    }

    return pkey;
}
