// The app the dependency-cache bench deploys: Express on $PORT, with /health.
const express = require("express");

const app = express();
app.get("/health", (request, response) => response.send("ok"));
app.listen(Number(process.env.PORT), "127.0.0.1");
