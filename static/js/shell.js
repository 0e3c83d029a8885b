// What every signed-in page shares around its own content: the drawers of the phone layout, the
// DM list and the guild rail's unread badges with the tab title, warnings and notifications, on
// the tab's one gateway (tab_gateway.js), which outlives the pages Turbo Drive swaps (page.js).
import { directMessages } from "./dms.js";
import { Drawers } from "./drawers.js";
import { attachNotifications } from "./notifications.js";
import { onPage } from "./page.js";
import { UnreadRail } from "./rail.js";
import { ensureTabGateway, onTabGateway } from "./tab_gateway.js";
import { attachWarnings } from "./warnings.js";

const rail = new UnreadRail();
onTabGateway((gateway) => {
  directMessages.attach(gateway);
  rail.attach(gateway);
  attachWarnings(gateway);
  attachNotifications(gateway);
});

onPage("body", (_body, signal) => {
  new Drawers().start(signal);
  rail.showPage();
  directMessages.showPage();
  // Every page module has run by now: a page that opened no socket gets the tab's own.
  ensureTabGateway();
});
