// What every signed-in page shares around its own content: the drawers of the phone layout, the
// DM list and the guild rail's unread badges with the tab title, on the tab's one gateway.
import { directMessages } from "./dms.js";
import { Drawers } from "./drawers.js";
import { UnreadRail } from "./rail.js";
import { ensureTabGateway, onTabGateway } from "./tab_gateway.js";

new Drawers().start();
const rail = new UnreadRail();
onTabGateway((gateway) => {
  directMessages.attach(gateway);
  rail.attach(gateway);
});
// Every page module has run by now: a page that opened no socket gets the tab's own.
document.addEventListener("DOMContentLoaded", ensureTabGateway, { once: true });
