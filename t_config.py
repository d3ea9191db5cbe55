# Wrong authority / base URL shapes and credential config: must fail at START with a message naming the key.
import sys, json; sys.path.insert(0,'/work/audit-id')
from h import *
d=f"{A}/runs/config"; os.makedirs(d,exist_ok=True)
fp,ports=start_fake(d)
I=f"127.0.0.1:{ports['idp']}"
cases={
 "authority_http": {"Store__Authority": f"http://{I}/{TENANT}"},
 "authority_garbage": {"Store__Authority": "not a url"},
 "authority_relative": {"Store__Authority": "/tenantmarker"},
 "authority_no_tenant": {"Store__Authority": f"https://{I}"},
 "authority_query": {"Store__Authority": f"https://{I}/{TENANT}?x=1"},
 "authority_fragment": {"Store__Authority": f"https://{I}/{TENANT}#frag"},
 "authority_userinfo": {"Store__Authority": f"https://user:SECRETMARKER@{I}/{TENANT}"},
 "authority_ftp": {"Store__Authority": f"ftp://{I}/{TENANT}"},
 "authority_trailing_token": {"Store__Authority": f"https://{I}/{TENANT}/oauth2/v2.0/token"},
 "authority_b2c_like": {"Store__Authority": f"https://{I}/tfp/{TENANT}/policy"},
 "authority_space": {"Store__Authority": f" https://{I}/{TENANT} "},
 "collections_http": {"Store__CollectionsBaseUrl": f"http://127.0.0.1:{ports['plain']}"},
 "collections_garbage": {"Store__CollectionsBaseUrl": "collections"},
 "scope_equal_ticket": {"Store__CollectionsTicketScope": "https://onestore.microsoft.com/.default"},
 "scope_empty": {"Store__ServiceScope": ""},
 "thumb_sha256": {"Store__TrustedCertificateThumbprint": THUMB_SHA256},
 "thumb_garbage": {"Store__TrustedCertificateThumbprint": "zz"},
 "secret_and_cert": {"Store__CertificatePath": f"{A}/certs/client.pfx", "Store__CertificatePassword":"PFXPASSMARKER-77"},
 "cert_missing": {"Store__ClientSecret": None, "Store__CertificatePath": f"{A}/certs/nope.pfx"},
 "cert_wrong_password": {"Store__ClientSecret": None, "Store__CertificatePath": f"{A}/certs/client.pfx", "Store__CertificatePassword":"WRONGPASSMARKER"},
 "cert_pem_not_pfx": {"Store__ClientSecret": None, "Store__CertificatePath": f"{A}/certs/cert.pem"},
 "credential_bogus": {"Store__Credential": "Kerberos"},
 "wi_no_file_setting": {"Store__Credential": "WorkloadIdentity", "Store__ClientSecret": None, "AZURE_FEDERATED_TOKEN_FILE": None},
 "wi_file_missing": {"Store__Credential": "WorkloadIdentity", "Store__ClientSecret": None, "Store__FederatedTokenFile": f"{A}/nope.jwt"},
 "wi_with_secret": {"Store__Credential": "WorkloadIdentity", "Store__FederatedTokenFile": f"{A}/certs/cert.pem"},
 "prod_http_collections": {"ASPNETCORE_ENVIRONMENT":"Production", "Store__TrustedCertificateThumbprint": None, "Store__CollectionsBaseUrl": f"http://127.0.0.1:{ports['plain']}", "Ops__Swagger": None},
 "prod_http_authority": {"ASPNETCORE_ENVIRONMENT":"Production", "Store__TrustedCertificateThumbprint": None, "Store__Authority": f"http://127.0.0.1:{ports['plain']}/{TENANT}", "Ops__Swagger": None},
}
only=sys.argv[1:] or list(cases)
for name in only:
    dd=f"{d}/{name}"; os.makedirs(dd,exist_ok=True)
    env=base_env(ports, **cases[name])
    gw,base=start_gw(dd, env, timeout=15)
    started = gw.poll() is None
    res=None; extra=""
    if started:
        n0=len(reqlog(d))
        res=query(base, ucid(user="cfg-"+name))
        extra=f"first query -> {res[0]} {res[2][:220]}"
        if name=="scope_equal_ticket":
            t=req(base,"GET","/v1/collections-ticket"); extra+=f" | ticket -> {t[0]} {t[2][:200]}"
        if name in ("collections_http","prod_http_collections","prod_http_authority"):
            extra+=f" | plaintext requests at fake: {[(r['kind'],r['path'],r['headers'].get('Authorization','')[:30], r['body'][:80]) for r in reqlog(d)[n0:]]}"
        stop(gw)
    out=open(f"{dd}/gw.out").read()
    errl=[l for l in out.splitlines() if any(w in l for w in ("rror","xception","nvalid","must","refus"))]
    print(f"== {name}: started={started} exit={gw.poll()}\n   {extra}\n   msg: {(errl[0] if errl else out[-300:])[:600]}", flush=True)
    lk={m:out.count(m) for m in ("SECRETMARKER","PFXPASSMARKER","WRONGPASSMARKER","TOKMARKER") if out.count(m)}
    if lk: print("   LEAK in log:", lk)
fp.kill()
