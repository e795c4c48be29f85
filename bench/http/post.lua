-- wrk script for POST /orders: the same body verify.mjs checks every peer echoes back.
-- verify.mjs also checks this body equals ORDER_BODY in peers/shared.mjs.
wrk.method = "POST"
wrk.body = '{"sku":"CHAIR-01","quantity":2,"customer":{"email":"a@b.co"}}'
wrk.headers["Content-Type"] = "application/json"
