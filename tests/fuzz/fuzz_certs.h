/*
 * fuzz_certs.h - a fixed P-256 PKI for the engine fuzz targets (generated
 * once with the openssl CLI, valid for 100 years).  Fixed keys and
 * certificates plus deterministic randomness make a recorded handshake
 * replay byte for byte, so the seed corpora reach deep protocol states.
 * Test material only: never use these keys for anything else.
 */
#ifndef DTLSUDP_FUZZ_CERTS_H
#define DTLSUDP_FUZZ_CERTS_H

static const char FUZZ_CA_CRT[] =
    "-----BEGIN CERTIFICATE-----\n"
    "MIIBmjCCAUGgAwIBAgIUd/AN/idBS9M9hZvTZM6G98Wh1qowCgYIKoZIzj0EAwIw\n"
    "GjEYMBYGA1UEAwwPZHRsc3VkcCBmdXp6IENBMCAXDTI2MTEyNTE1MTQwM1oYDzIx\n"
    "MjYxMTAxMTUxNDAzWjAaMRgwFgYDVQQDDA9kdGxzdWRwIGZ1enogQ0EwWTATBgcq\n"
    "hkjOPQIBBggqhkjOPQMBBwNCAASH13QY5qkrWGTOUR6Bp3TaxWMD5ukaLOnmu2fM\n"
    "ZIwqY/9sHhe4c94SeoJEfQKm0UzDxvTzSeI0PbKhiMgZ1V9Oo2MwYTAdBgNVHQ4E\n"
    "FgQUQYZUhHodITmeFKKFOxDC4XMwrYYwHwYDVR0jBBgwFoAUQYZUhHodITmeFKKF\n"
    "OxDC4XMwrYYwDwYDVR0TAQH/BAUwAwEB/zAOBgNVHQ8BAf8EBAMCAQYwCgYIKoZI\n"
    "zj0EAwIDRwAwRAIgGNhSW6RmOIGQ0IvHVkwbcMa+lvr/xURWiE5SKTHxJeYCIEhN\n"
    "vUY5uqVW7/KwV0hBwkhDuoV4sxu4XcOFPhGiVsOB\n"
    "-----END CERTIFICATE-----\n"
    ;

static const char FUZZ_SERVER_CRT[] =
    "-----BEGIN CERTIFICATE-----\n"
    "MIIBsjCCAVigAwIBAgIUJeKaprANk2CIM+OW8q9OfjbUsvIwCgYIKoZIzj0EAwIw\n"
    "GjEYMBYGA1UEAwwPZHRsc3VkcCBmdXp6IENBMCAXDTI2MTEyNTE1MTQwM1oYDzIx\n"
    "MjYxMTAxMTUxNDAzWjAWMRQwEgYDVQQDDAtzZXJ2ZXIuZnV6ejBZMBMGByqGSM49\n"
    "AgEGCCqGSM49AwEHA0IABHfvwHmJ32UJNJXz8nqUw+ibDTGtD1HAmvFqKiwxpPyS\n"
    "WxV91eUUiChwqLuwaSzZGUwPj+YSnsfxyPOtqaEL9H2jfjB8MAwGA1UdEwEB/wQC\n"
    "MAAwDgYDVR0PAQH/BAQDAgeAMBwGA1UdEQQVMBOCC3NlcnZlci5mdXp6hwR/AAAB\n"
    "MB0GA1UdDgQWBBTpWq8shxJ1eBMe0sQwa5u2hV5wtjAfBgNVHSMEGDAWgBRBhlSE\n"
    "eh0hOZ4UooU7EMLhczCthjAKBggqhkjOPQQDAgNIADBFAiEAjyINEvkBUTFR/ia7\n"
    "PAL4F1lRTZfszB4KRS77oQ9CS7UCIARG6xqYHFt05EoqbY/op4otrLToT0sIu68A\n"
    "nCqbhBbx\n"
    "-----END CERTIFICATE-----\n"
    ;

static const char FUZZ_SERVER_KEY[] =
    "-----BEGIN PRIVATE KEY-----\n"
    "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgMRbbT/WoOOTtuouh\n"
    "H2idzRmZAeGg0+S7+KgcMvq+9kuhRANCAAR378B5id9lCTSV8/J6lMPomw0xrQ9R\n"
    "wJrxaiosMaT8klsVfdXlFIgocKi7sGks2RlMD4/mEp7H8cjzramhC/R9\n"
    "-----END PRIVATE KEY-----\n"
    ;

static const char FUZZ_CLIENT_CRT[] =
    "-----BEGIN CERTIFICATE-----\n"
    "MIIBsjCCAVigAwIBAgIUJeKaprANk2CIM+OW8q9OfjbUsvMwCgYIKoZIzj0EAwIw\n"
    "GjEYMBYGA1UEAwwPZHRsc3VkcCBmdXp6IENBMCAXDTI2MTEyNTE1MTQwM1oYDzIx\n"
    "MjYxMTAxMTUxNDAzWjAWMRQwEgYDVQQDDAtjbGllbnQuZnV6ejBZMBMGByqGSM49\n"
    "AgEGCCqGSM49AwEHA0IABAPuijvUdL3M5BNofdoK2UURxiUalLZx8iz8ZNXohUFG\n"
    "el4TGIIxWzM6EV6UyhzZ2NsCYOr/eYXA9Hku2FwYqcijfjB8MAwGA1UdEwEB/wQC\n"
    "MAAwDgYDVR0PAQH/BAQDAgeAMBwGA1UdEQQVMBOCC2NsaWVudC5mdXp6hwR/AAAB\n"
    "MB0GA1UdDgQWBBSyRJMjioqgUIfENXVCu/sHahaUljAfBgNVHSMEGDAWgBRBhlSE\n"
    "eh0hOZ4UooU7EMLhczCthjAKBggqhkjOPQQDAgNIADBFAiEA8CZc5aXsVEYbeAgR\n"
    "cyRFzBe4xsh3+SGodyvvjGpXur4CIEhcc9OsThu5Eb1Ia3r5sw3A1+M/csTklVrC\n"
    "Oib+QGnH\n"
    "-----END CERTIFICATE-----\n"
    ;

static const char FUZZ_CLIENT_KEY[] =
    "-----BEGIN PRIVATE KEY-----\n"
    "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgTopL1fxQIMboEV+O\n"
    "TJsijs9axcABjKzsYbMZBf21XEqhRANCAAQD7oo71HS9zOQTaH3aCtlFEcYlGpS2\n"
    "cfIs/GTV6IVBRnpeExiCMVszOhFelMoc2djbAmDq/3mFwPR5LthcGKnI\n"
    "-----END PRIVATE KEY-----\n"
    ;

#endif
