import MartletRelay

/// The page a browser sees at the relay URL: what the relay is, and how it is doing now.
///
/// Self-contained (inline CSS and script, no external assets, so it works on a relay with
/// no outside network). The script polls `/status.json` every two seconds and draws events
/// per second and connections on canvases; it marks `<body data-polls="N">` after each
/// poll so a headless browser can tell the figures are live.
///
/// ```swift
/// let html = StatusPage.html(for: relay)
/// ```
enum StatusPage {
    static func html(for relay: Relay) -> String {
        let info = relay.info.current
        let nips = RelayInformationDocument.supportedNIPs(for: relay.configuration).map(String.init).joined(separator: ", ")
        return #"""
            <!doctype html>
            <html lang="en"><head><meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>\#(escape(info.name)) · status</title>
            <style>\#(style)</style></head>
            <body data-polls="0">
            <header>
              <div><h1 id="name">\#(escape(info.name))</h1><p id="description">\#(escape(info.description))</p></div>
              <div class="badge" id="state">connecting…</div>
            </header>
            <p class="hint">A <a href="https://github.com/nostr-protocol/nips">Nostr</a> relay: point a Nostr client at this
            address with <code>wss://</code> (or <code>ws://</code>). Machine-readable: <a href="/status.json">status.json</a>,
            <a href="/metrics">metrics</a>, and NIP-11 for <code>Accept: application/nostr+json</code>.</p>
            <noscript><p class="hint">The live figures need JavaScript; <a href="/status.json">status.json</a> has them.</p></noscript>
            <section class="cards">
              <div class="card"><span class="label">Connections</span><span class="figure" id="connections">–</span></div>
              <div class="card"><span class="label">Subscriptions</span><span class="figure" id="subscriptions">–</span></div>
              <div class="card"><span class="label">Events / s</span><span class="figure" id="rate">–</span></div>
              <div class="card"><span class="label">Stored events</span><span class="figure" id="stored">–</span></div>
              <div class="card"><span class="label">Storage</span><span class="figure" id="bytes">–</span></div>
              <div class="card"><span class="label">Uptime</span><span class="figure" id="uptime">–</span></div>
            </section>
            <section class="charts">
              <div class="panel"><h2>Events per second <small><i class="key a"></i>accepted <i class="key r"></i>received</small></h2>
                <canvas id="eventsChart" height="160"></canvas></div>
              <div class="panel"><h2>Connections</h2><canvas id="connectionsChart" height="160"></canvas></div>
            </section>
            <section class="charts">
              <div class="panel"><h2>Kinds stored</h2><div id="kinds" class="kinds"><p class="empty">No events yet.</p></div></div>
              <div class="panel"><h2>Since start</h2><table class="totals"><tbody>
                <tr><td>Events received</td><td id="received">–</td></tr>
                <tr><td>Accepted</td><td id="accepted">–</td></tr>
                <tr><td>Rejected or duplicate</td><td id="rejected">–</td></tr>
                <tr><td>Live deliveries</td><td id="delivered">–</td></tr>
              </tbody></table></div>
            </section>
            <section class="panel" id="meshPanel" hidden><h2>Mesh peers</h2>
              <table class="recent"><thead><tr><th>Peer</th><th>State</th><th>In</th><th>Out</th><th>Connections</th><th>Last error</th></tr></thead>
              <tbody id="mesh"></tbody></table></section>
            <section class="panel" id="syncPanel" hidden><h2>Sync store <small id="syncAuthors"></small></h2>
              <table class="recent"><thead><tr><th>Relay</th><th>Last seen</th><th>Last sync</th><th>Last error</th></tr></thead>
              <tbody id="sync"></tbody></table></section>
            <section class="panel" id="hostedPanel" hidden><h2>Hosted relays <small id="hostedCounts"></small></h2>
              <table class="recent"><thead><tr><th>Relay</th><th>Name</th><th>Connections</th><th>Subscriptions</th></tr></thead>
              <tbody id="hosted"></tbody></table></section>
            <section class="panel"><h2>Recent events</h2>
              <table class="recent"><thead><tr><th>Kind</th><th>Author</th><th>Created</th><th>Content</th></tr></thead>
              <tbody id="recent"><tr><td colspan="4" class="empty">No events yet.</td></tr></tbody></table></section>
            <footer>Martlet \#(RelayInformationDocument.version) · NIPs \#(nips)</footer>
            <script>\#(script)</script>
            </body></html>
            """#
    }

    static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }

    private static let style = #"""
        :root{--bg:#f6f7f9;--panel:#fff;--ink:#1d2430;--muted:#6b7483;--line:#e3e6eb;--a:#2f6fdf;--r:#b7c3d6}
        @media (prefers-color-scheme:dark){:root{--bg:#14171c;--panel:#1d2128;--ink:#e8ebf0;--muted:#97a0ad;--line:#2c323b;--a:#6ea2ff;--r:#4a5566}}
        *{box-sizing:border-box}body{margin:0 auto;max-width:68rem;padding:1.5rem;background:var(--bg);color:var(--ink);
        font:15px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif}
        header{display:flex;justify-content:space-between;align-items:flex-start;gap:1rem}
        h1{margin:0;font-size:1.7rem}h2{margin:0 0 .6rem;font-size:1rem}h2 small{font-weight:normal;color:var(--muted);margin-left:.5rem}
        header p{margin:.2rem 0 0;color:var(--muted)}.hint{color:var(--muted);font-size:.9rem}a{color:var(--a)}
        code{background:var(--line);padding:0 .3rem;border-radius:3px}
        .badge{padding:.25rem .7rem;border-radius:1rem;background:var(--line);font-size:.85rem;white-space:nowrap}
        .badge.live{background:#1f8f4e;color:#fff}.badge.down{background:#c0392b;color:#fff}
        .cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(9.5rem,1fr));gap:.8rem;margin:1rem 0}
        .card,.panel{background:var(--panel);border:1px solid var(--line);border-radius:10px;padding:.9rem 1rem}
        .label{display:block;color:var(--muted);font-size:.8rem;text-transform:uppercase;letter-spacing:.04em}
        .figure{display:block;font-size:1.6rem;font-weight:600;font-variant-numeric:tabular-nums;white-space:nowrap}
        .charts{display:grid;grid-template-columns:repeat(auto-fit,minmax(20rem,1fr));gap:.8rem;margin-bottom:.8rem}
        canvas{width:100%;display:block}.key{display:inline-block;width:.8rem;height:.25rem;margin:0 .25rem .2rem .6rem;background:var(--a)}
        .key.r{background:var(--r)}.kinds .row{display:grid;grid-template-columns:9rem 1fr 4.5rem;gap:.5rem;align-items:center;margin:.25rem 0}
        .bar{height:.7rem;background:var(--a);border-radius:3px;min-width:2px}.num{text-align:right;font-variant-numeric:tabular-nums}
        table{width:100%;border-collapse:collapse}td,th{text-align:left;padding:.35rem .4rem;border-top:1px solid var(--line);vertical-align:top}
        th{color:var(--muted);font-weight:normal;font-size:.8rem;text-transform:uppercase;border-top:0}
        .totals td:last-child{text-align:right;font-variant-numeric:tabular-nums}.recent td:nth-child(2){font-family:ui-monospace,monospace}
        .recent td:last-child{word-break:break-word}.empty{color:var(--muted)}footer{margin-top:1rem;color:var(--muted);font-size:.8rem}
        """#

    private static let script = #"""
        (function(){
        "use strict";
        const KINDS={0:"metadata",1:"note",3:"follows",4:"DM (NIP-04)",5:"deletion",6:"repost",7:"reaction",13:"seal",
          16:"repost",1059:"gift wrap",1063:"file",1984:"report",9734:"zap request",9735:"zap",10002:"relay list",
          30023:"article",30078:"app data"};
        const history=[], keep=90; let polls=0, previous=null;
        const $=id=>document.getElementById(id);
        const fmt=n=>Number(n).toLocaleString("en-US");
        const kindName=k=>(KINDS[k]?KINDS[k]+" ":"")+"("+k+")";
        function bytes(n){const u=["B","KiB","MiB","GiB","TiB"];let i=0;while(n>=1024&&i<u.length-1){n/=1024;i++}
          return (i?n.toFixed(1):n)+" "+u[i]}
        function duration(s){const d=Math.floor(s/86400),h=Math.floor(s%86400/3600),m=Math.floor(s%3600/60);
          return d?d+"d "+h+"h":h?h+"h "+m+"m":m?m+"m "+(s%60)+"s":s+"s"}
        function ago(t){const s=Math.max(0,Math.round(Date.now()/1000-t));
          return s<60?s+" s ago":s<3600?Math.floor(s/60)+" min ago":s<86400?Math.floor(s/3600)+" h ago":new Date(t*1000).toISOString().slice(0,10)}
        function cell(row,text){const td=document.createElement("td");td.textContent=text;row.appendChild(td)}
        function draw(canvas,series,colors){
          const ratio=window.devicePixelRatio||1,w=canvas.clientWidth||600,h=canvas.clientHeight||160;
          canvas.width=w*ratio;canvas.height=h*ratio;const g=canvas.getContext("2d");g.scale(ratio,ratio);
          const css=getComputedStyle(document.documentElement),pad=30;
          let max=1;for(const s of series)for(const v of s)max=Math.max(max,v);
          const step=Math.pow(10,Math.floor(Math.log10(max))),top=Math.ceil(max/step)*step;
          g.strokeStyle=css.getPropertyValue("--line");g.fillStyle=css.getPropertyValue("--muted");g.font="11px system-ui";g.lineWidth=1;
          for(let i=0;i<=2;i++){const y=6+(h-pad+6-12)*i/2;g.beginPath();g.moveTo(pad,y);g.lineTo(w,y);g.stroke();
            g.fillText(String(Math.round(top*(2-i)/2*100)/100),2,y+4)}
          series.forEach((s,n)=>{g.strokeStyle=css.getPropertyValue(colors[n]);g.lineWidth=2;g.beginPath();
            s.forEach((v,i)=>{const x=pad+(w-pad)*(i+keep-s.length)/(keep-1),y=6+(h-pad-6)*(1-v/top);i?g.lineTo(x,y):g.moveTo(x,y)});g.stroke()});
          g.fillStyle=css.getPropertyValue("--muted");g.fillText("last "+(keep*2/60)+" min",w-70,h-8)}
        function render(s){
          const now=performance.now()/1000;let rate=0,received=0;
          if(previous){const dt=Math.max(0.001,now-previous.at);rate=(s.events.accepted-previous.accepted)/dt;received=(s.events.received-previous.received)/dt}
          previous={at:now,accepted:s.events.accepted,received:s.events.received};
          history.push({rate:Math.max(0,rate),received:Math.max(0,received),connections:s.connections});
          if(history.length>keep)history.shift();
          $("name").textContent=s.name;$("description").textContent=s.description;document.title=s.name+" · status";
          $("connections").textContent=fmt(s.connections);$("subscriptions").textContent=fmt(s.subscriptions);
          $("rate").textContent=polls?rate.toFixed(rate<10?1:0):"–";$("uptime").textContent=duration(s.uptime_seconds);
          for(const k of["received","accepted","rejected","delivered"])$(k).textContent=fmt(s.events[k]);
          const store=s.store||{events:0,bytes:0,top_kinds:[]};
          $("stored").textContent=fmt(store.events);$("bytes").textContent=bytes(store.bytes);
          const kinds=$("kinds");kinds.textContent="";const top=store.top_kinds.slice(0,10),most=top.length?top[0].count:1;
          if(!top.length){const p=document.createElement("p");p.className="empty";p.textContent="No events yet.";kinds.appendChild(p)}
          for(const k of top){const row=document.createElement("div");row.className="row";row.dataset.kind=k.kind;
            const name=document.createElement("span");name.textContent=kindName(k.kind);
            const track=document.createElement("div"),bar=document.createElement("div");bar.className="bar";
            bar.style.width=(100*k.count/most)+"%";track.appendChild(bar);
            const num=document.createElement("span");num.className="num";num.textContent=fmt(k.count);
            row.append(name,track,num);kinds.appendChild(row)}
          const body=$("recent");body.textContent="";
          if(!s.recent.length){const row=body.insertRow();const td=row.insertCell();td.colSpan=4;td.className="empty";td.textContent="No events yet."}
          for(const e of s.recent){const row=document.createElement("tr");cell(row,kindName(e.kind));
            cell(row,e.pubkey.slice(0,8)+"…"+e.pubkey.slice(-4));cell(row,ago(e.created_at));cell(row,e.content||"");body.appendChild(row)}
          const peers=s.mesh||[];$("meshPanel").hidden=!peers.length;const mesh=$("mesh");mesh.textContent="";
          for(const p of peers){const row=document.createElement("tr");row.dataset.state=p.state;cell(row,p.url);cell(row,p.state);
            cell(row,fmt(p.events_in));cell(row,fmt(p.events_out));cell(row,fmt(p.connections));cell(row,p.last_error||"");mesh.appendChild(row)}
          const known=s.sync_relays||[];$("syncPanel").hidden=!known.length&&!s.sync_authors;const sync=$("sync");sync.textContent="";
          $("syncAuthors").textContent=s.sync_authors?fmt(s.sync_authors)+" relay lists kept in the DHT":"";
          for(const r of known){const row=document.createElement("tr");cell(row,r.url);cell(row,ago(r.last_seen));
            cell(row,r.last_sync?ago(r.last_sync):"never");cell(row,r.last_error||"");sync.appendChild(row)}
          const h=s.hosted||{relays:0,open:0,open_relays:[]};$("hostedPanel").hidden=!h.relays;const hosted=$("hosted");hosted.textContent="";
          $("hostedCounts").textContent=fmt(h.relays)+" hosted, "+fmt(h.open)+" open now";
          for(const r of h.open_relays){const row=document.createElement("tr");row.dataset.key=r.key;cell(row,"/"+r.key.slice(0,12)+"…");
            cell(row,r.name);cell(row,fmt(r.connections));cell(row,fmt(r.subscriptions));hosted.appendChild(row)}
          draw($("eventsChart"),[history.map(p=>p.received),history.map(p=>p.rate)],["--r","--a"]);
          draw($("connectionsChart"),[history.map(p=>p.connections)],["--a"]);
          const badge=$("state");badge.textContent="live";badge.className="badge live";
          polls++;document.body.dataset.polls=polls}
        async function poll(){
          try{const r=await fetch("status.json",{cache:"no-store"});if(!r.ok)throw new Error(r.status);render(await r.json())}
          catch(e){const badge=$("state");badge.textContent="unreachable";badge.className="badge down"}
          setTimeout(poll,2000)}
        poll();
        })();
        """#
}
