/**
 * Compile-time checks that the generated types describe the API as the backend serves it: `tsc`
 * (run by `make test`) fails if a path, a parameter, a body field or an answer's shape drifts.
 * Nothing here runs.
 */
import { mailerClient, type CampaignStatus, type LeadStatus } from "./index";

const api = mailerClient("https://example.execute-api.ap-south-1.amazonaws.com", () => "token");

export async function startCampaign(id: string): Promise<CampaignStatus | undefined> {
  const { data, error } = await api.POST("/campaigns/{id}/start", { params: { path: { id } } });
  if (error) {
    const code: string = error.error.code;
    return code === "INVALID_STATE" ? undefined : undefined;
  }
  return data.status;
}

export async function newLead(email: string): Promise<LeadStatus | undefined> {
  const { data } = await api.POST("/leads", { body: { email, firstName: "Anna", tags: ["berlin"] } });
  return data?.status;
}

export async function firstPage(): Promise<string[]> {
  const { data } = await api.GET("/campaigns", { params: { query: { limit: 20 } } });
  return data ? data.items.map((campaign) => campaign.id) : [];
}

// Every campaign status the backend's state machine has, and no other (exhaustive both ways).
const statuses: Record<CampaignStatus, true> = { draft: true, running: true, paused: true, completed: true, aborted: true };
export const campaignStatuses = Object.keys(statuses);

// @ts-expect-error: a path the API does not serve is a compile error
export const missing = () => api.GET("/campaign", {});
