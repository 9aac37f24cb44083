/**
 * The four bookinfo services, small: productpage calls details and reviews;
 * reviews v2 and v3 call ratings (v2 shows black stars, v3 red). Each
 * handler gets the request path and a `call` function that reaches another
 * service through the mesh with the tracing headers propagated.
 */

/** Calls another bookinfo service (`details`, `reviews`, `ratings`) at a path. */
export type Call = (service: string, path: string) => Promise<UpstreamReply>;

export interface UpstreamReply {
  readonly status: number;
  readonly body: unknown;
}

export interface Reply {
  readonly status: number;
  readonly contentType: 'application/json' | 'text/html; charset=utf-8';
  readonly body: string;
}

export interface ServiceIdentity {
  readonly service: string;
  readonly version: string;
}

export type Handler = (path: string, call: Call) => Promise<Reply>;

const SERVICES = ['productpage', 'details', 'reviews', 'ratings'] as const;

/** True when `name` is one of the bookinfo services. */
export function isService(name: string): name is (typeof SERVICES)[number] {
  return (SERVICES as readonly string[]).includes(name);
}

function json(status: number, body: unknown): Reply {
  return { status, contentType: 'application/json', body: JSON.stringify(body) };
}

const NOT_FOUND = json(404, { error: 'not found' });

const BOOK = {
  id: 0,
  author: 'William Shakespeare',
  year: 1595,
  type: 'paperback',
  pages: 200,
  publisher: 'PublisherA',
  language: 'English',
  'ISBN-10': '1234567890',
  'ISBN-13': '123-1234567890',
};

const REVIEWS = [
  {
    reviewer: 'Reviewer1',
    text: 'An extremely entertaining play by Shakespeare. The slapstick humour is refreshing!',
  },
  {
    reviewer: 'Reviewer2',
    text: 'Absolutely fun and entertaining. The play lacks thematic depth when compared to other plays by Shakespeare.',
  },
];

const RATINGS: Record<string, number> = { Reviewer1: 5, Reviewer2: 4 };

function idOf(path: string, prefix: string): number | undefined {
  const match = new RegExp(`^/${prefix}/(\\d+)$`).exec(path);
  return match ? Number(match[1]) : undefined;
}

function details(path: string): Promise<Reply> {
  const id = idOf(path, 'details');
  return Promise.resolve(id === undefined ? NOT_FOUND : json(200, { ...BOOK, id }));
}

function ratings(path: string): Promise<Reply> {
  const id = idOf(path, 'ratings');
  return Promise.resolve(id === undefined ? NOT_FOUND : json(200, { id, ratings: RATINGS }));
}

function reviews(version: string): Handler {
  return async (path, call) => {
    const id = idOf(path, 'reviews');
    if (id === undefined) return NOT_FOUND;
    const color = version === 'v2' ? 'black' : version === 'v3' ? 'red' : undefined;
    let stars: Record<string, number> | undefined;
    let ratingsError: string | undefined;
    if (color) {
      const reply = await call('ratings', `/ratings/${id}`);
      if (reply.status === 200) stars = (reply.body as { ratings: Record<string, number> }).ratings;
      else ratingsError = `ratings service answered ${reply.status}`;
    }
    return json(200, {
      id,
      version,
      reviews: REVIEWS.map((r) => ({
        ...r,
        ...(color && stars ? { rating: { stars: stars[r.reviewer], color } } : {}),
        ...(ratingsError ? { rating: { error: ratingsError } } : {}),
      })),
    });
  };
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);
}

interface ProductView {
  readonly details: UpstreamReply;
  readonly reviews: UpstreamReply;
}

async function product(call: Call): Promise<ProductView> {
  const [detailsReply, reviewsReply] = await Promise.all([
    call('details', '/details/0'),
    call('reviews', '/reviews/0'),
  ]);
  return { details: detailsReply, reviews: reviewsReply };
}

function productHtml(view: ProductView): string {
  const book = view.details.status === 200 ? (view.details.body as typeof BOOK) : undefined;
  const rev =
    view.reviews.status === 200
      ? (view.reviews.body as { version: string; reviews: typeof REVIEWS })
      : undefined;
  const detailsHtml = book
    ? `<dl>${Object.entries(book)
        .map(([k, v]) => `<dt>${escapeHtml(k)}</dt><dd>${escapeHtml(String(v))}</dd>`)
        .join('')}</dl>`
    : `<p class="error">Error fetching product details (${view.details.status})</p>`;
  const reviewsHtml = rev
    ? `<div id="reviews" data-version="${escapeHtml(rev.version)}">${rev.reviews
        .map(
          (r) =>
            `<blockquote><p>${escapeHtml(r.text)}</p><small>${escapeHtml(r.reviewer)}</small></blockquote>`,
        )
        .join('')}</div>`
    : `<p class="error">Error fetching product reviews (${view.reviews.status})</p>`;
  return `<!doctype html><html><head><title>Simple Bookstore App</title></head><body><h1>The Comedy of Errors</h1>${detailsHtml}${reviewsHtml}</body></html>\n`;
}

/**
 * productpage: `/productpage` (HTML; 200 even when a backend failed, as
 * Istio's bookinfo does, with the failure shown) and `/api/v1/products/0`
 * (JSON with the details, the reviews and the reviews version that served).
 */
function productpage(): Handler {
  return async (path, call) => {
    if (path === '/productpage') {
      return { status: 200, contentType: 'text/html; charset=utf-8', body: productHtml(await product(call)) };
    }
    if (path === '/api/v1/products') return json(200, [{ id: 0, title: 'The Comedy of Errors' }]);
    if (path === '/api/v1/products/0') {
      const view = await product(call);
      return json(200, {
        details: view.details.body,
        reviews: view.reviews.body,
        upstreamStatus: { details: view.details.status, reviews: view.reviews.status },
      });
    }
    return NOT_FOUND;
  };
}

/** The handler of one service at one version. */
export function handlerFor(identity: ServiceIdentity): Handler {
  switch (identity.service) {
    case 'productpage':
      return productpage();
    case 'details':
      return details;
    case 'reviews':
      return reviews(identity.version);
    default:
      return ratings;
  }
}
