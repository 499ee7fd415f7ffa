// The peer arm of bench/ceiling/run.sh: SCIMMY (the fastest open-source SCIM server measured so far) with its
// express routers, holding users in memory. LOOKUP says how its handler answers a filter: `filter` (the
// default) with SCIMMY's own filter engine over the users (`Filter.match`), as an in-memory SCIMMY server is
// written; `map` with a map from lower-cased userName to user for the IdP's `userName eq`, the fastest a
// handler can be. Loads the users of NAMES (one URL-encoded userName per line, as bench/http/tool.py dumps
// them) at start. Not part of the build: `npm ci` in this folder installs the pinned versions.
import express from "express";
import fs from "node:fs";
import SCIMMY from "scimmy";
import SCIMMYRouters from "scimmy-routers";

const byId = new Map();
const byName = new Map();
let next = 1;

function store(user) {
    const id = user.id ?? String(next++);
    const now = new Date();
    const record = {...user, id, meta: {created: now, lastModified: now}};
    byId.set(id, record);
    byName.set(String(user.userName).toLowerCase(), record);
    return record;
}

for (const [i, name] of fs.readFileSync(process.env.NAMES, "utf8").split("\n").filter(Boolean).map(decodeURIComponent).entries()) {
    store({
        userName: name,
        externalId: `ext-${i}`,
        name: {givenName: "Bench", familyName: `User${i}`},
        emails: [{value: name, type: "work", primary: true}],
        active: true,
    });
}

SCIMMY.Resources.declare(SCIMMY.Resources.User)
    .ingress((resource, data) => store({...data, id: resource.id}))
    .egress((resource) => {
        if (resource.id) return byId.get(resource.id);
        if (!resource.filter) return [...byId.values()];
        const first = resource.filter[0];
        const eq = first?.userName;
        if (process.env.LOOKUP === "map" && eq && eq[0] === "eq" && Object.keys(first).length === 1) {
            const hit = byName.get(String(eq[1]).toLowerCase());
            return hit ? [hit] : [];
        }
        return resource.filter.match([...byId.values()]);
    })
    .degress((resource) => { byId.delete(resource.id); });

const app = express();
app.use("/scim", new SCIMMYRouters({
    type: "bearer",
    docUri: "http://127.0.0.1/",
    handler: (req) => {
        if (req.header("Authorization") !== `Bearer ${process.env.TOKEN}`) throw new Error("not authorised");
        return "bench";
    },
}));
const port = Number(process.env.PORT ?? 8091);
app.listen(port, "127.0.0.1", () => console.log(`scimmy listening on ${port}`));
