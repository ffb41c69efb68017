// Drives the everyday actions on posts and accounts with masto (a Mastodon client library from npm, as Elk and
// Phanpy use it): boost, edit, bookmark, the hashtag timeline with followed tags and search, and block. Start it with
// tests/clients/run.sh (or set LENTA_URL to a running server); masto 8 needs Node 22 (run.sh puts one on PATH).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { signUp, eventually } from './masto-users.mjs';

const word = `w${Date.now().toString(36)}`;   // a word (and tag) no other run used

test('masto: boost, unboost and who boosted; the booster\'s follower sees the boost once', { timeout: 90_000 }, async () => {
  const alice = await signUp('mb');
  const bob = await signUp('mb');
  const carol = await signUp('mb');
  await carol.rest.v1.accounts.$select(bob.id).follow();
  await carol.rest.v1.timelines.home.list();   // an active reader: fan-out pushes to her timeline
  const post = await alice.rest.v1.statuses.create({ status: `boost me ${word}`, visibility: 'public' });

  const boost = await bob.rest.v1.statuses.$select(post.id).reblog();
  assert.notEqual(boost.id, post.id);
  assert.equal(boost.account.id, bob.id);
  assert.equal(boost.reblog.id, post.id);
  assert.equal(boost.reblog.reblogged, true);
  assert.equal(boost.reblog.reblogsCount, 1);
  assert.equal((await bob.rest.v1.statuses.$select(post.id).reblog()).id, boost.id, 'boosting again answers the same boost');
  assert.deepEqual((await alice.rest.v1.statuses.$select(post.id).rebloggedBy.list()).map(a => a.id), [bob.id]);

  const home = await eventually(() => carol.rest.v1.timelines.home.list(), h => h.some(s => s.reblog?.id === post.id), 'the boost in carol\'s home');
  assert.equal(home.filter(s => s.id === post.id || s.reblog?.id === post.id).length, 1, 'one entry per original');
  assert.equal(home.find(s => s.reblog?.id === post.id).account.id, bob.id);

  const undone = await bob.rest.v1.statuses.$select(post.id).unreblog();
  assert.equal(undone.id, post.id);
  assert.equal(undone.reblogged, false);
  assert.equal(undone.reblogsCount, 0);
  assert.deepEqual(await alice.rest.v1.statuses.$select(post.id).rebloggedBy.list(), []);
  await eventually(() => carol.rest.v1.timelines.home.list(), h => !h.some(s => s.reblog?.id === post.id), 'the boost gone from carol\'s home');
});

test('masto: edit a post, read its source and history', { timeout: 60_000 }, async () => {
  const alice = await signUp('me');
  const post = await alice.rest.v1.statuses.create({ status: 'first words', visibility: 'public' });
  assert.equal(post.editedAt, null);
  const edited = await alice.rest.v1.statuses.$select(post.id).update({ status: 'second words', spoilerText: 'cw' });
  assert.equal(edited.id, post.id);
  assert.ok(edited.editedAt, 'edited_at is set');
  assert.match(edited.content, /second words/);
  assert.equal(edited.spoilerText, 'cw');
  const source = await alice.rest.v1.statuses.$select(post.id).source.fetch();
  assert.equal(source.text, 'second words');
  assert.equal(source.spoilerText, 'cw');
  const history = await alice.rest.v1.statuses.$select(post.id).history.list();
  assert.equal(history.length, 2);
  assert.match(history[0].content, /first words/);
  assert.match(history[1].content, /second words/);
  assert.match((await alice.rest.v1.statuses.$select(post.id).fetch()).content, /second words/, 'a read after the edit shows it');
});

test('masto: bookmark and unbookmark; the bookmarks list', { timeout: 60_000 }, async () => {
  const alice = await signUp('mk');
  const bob = await signUp('mk');
  const post = await alice.rest.v1.statuses.create({ status: 'keep this', visibility: 'public' });
  const marked = await bob.rest.v1.statuses.$select(post.id).bookmark();
  assert.equal(marked.bookmarked, true);
  assert.deepEqual((await bob.rest.v1.bookmarks.list()).map(s => s.id), [post.id]);
  assert.equal((await bob.rest.v1.statuses.$select(post.id).fetch()).bookmarked, true);
  assert.equal((await alice.rest.v1.statuses.$select(post.id).fetch()).bookmarked, false, 'a bookmark is private to its owner');
  assert.equal((await bob.rest.v1.statuses.$select(post.id).unbookmark()).bookmarked, false);
  assert.deepEqual(await bob.rest.v1.bookmarks.list(), []);
});

test('masto: the hashtag timeline, a tag, following it, and search of statuses and hashtags', { timeout: 90_000 }, async () => {
  const alice = await signUp('mt');
  const bob = await signUp('mt');
  const tag = `tag${word}`;
  const followed = await bob.rest.v1.tags.$select(tag).follow();
  assert.equal(followed.name, tag);
  assert.equal(followed.following, true);
  assert.ok((await bob.rest.v1.followedTags.list()).some(t => t.name === tag));
  await bob.rest.v1.timelines.home.list();   // an active reader

  const post = await alice.rest.v1.statuses.create({ status: `hello #${tag.toUpperCase()} and ${word}`, visibility: 'public' });
  assert.deepEqual(post.tags.map(t => t.name), [tag]);
  const timeline = await eventually(() => bob.rest.v1.timelines.tag.$select(tag).list(), l => l.length > 0, 'the tag timeline');
  assert.deepEqual(timeline.map(s => s.id), [post.id]);
  assert.equal((await bob.rest.v1.tags.$select(tag).fetch()).following, true);
  await eventually(() => bob.rest.v1.timelines.home.list(), h => h.some(s => s.id === post.id), 'the followed tag\'s post in bob\'s home');

  const found = await bob.rest.v2.search.list({ q: word, type: 'statuses' });
  assert.ok(found.statuses.some(s => s.id === post.id), JSON.stringify(found.statuses.map(s => s.id)));
  const tags = await bob.rest.v2.search.list({ q: `#${tag}`, type: 'hashtags' });
  assert.ok(tags.hashtags.some(t => t.name === tag));

  assert.equal((await bob.rest.v1.tags.$select(tag).unfollow()).following, false);
  assert.ok(!(await bob.rest.v1.followedTags.list()).some(t => t.name === tag));
});

test('masto: block and unblock; a blocked account\'s posts leave the blocker\'s timelines', { timeout: 90_000 }, async () => {
  const alice = await signUp('mx');
  const bob = await signUp('mx');
  await bob.rest.v1.accounts.$select(alice.id).follow();
  const tag = `blk${word}`;
  const post = await alice.rest.v1.statuses.create({ status: `before the block #${tag}`, visibility: 'public' });
  await eventually(() => bob.rest.v1.timelines.home.list(), h => h.some(s => s.id === post.id), 'alice\'s post in bob\'s home');

  const rel = await bob.rest.v1.accounts.$select(alice.id).block();
  assert.equal(rel.blocking, true);
  assert.equal(rel.following, false, 'a block ends the follow');
  assert.deepEqual((await bob.rest.v1.blocks.list()).map(a => a.id), [alice.id]);
  assert.ok(!(await bob.rest.v1.timelines.home.list()).some(s => s.id === post.id), 'gone from home');
  assert.ok(!(await bob.rest.v1.timelines.tag.$select(tag).list()).some(s => s.id === post.id), 'gone from the tag timeline');
  assert.ok(!(await bob.rest.v1.timelines.public.list({ local: true })).some(s => s.account.id === alice.id), 'gone from the public timeline');
  const [seen] = await alice.rest.v1.accounts.relationships.fetch({ id: [bob.id] });
  assert.equal(seen.blockedBy, true);

  assert.equal((await bob.rest.v1.accounts.$select(alice.id).unblock()).blocking, false);
  assert.deepEqual(await bob.rest.v1.blocks.list(), []);
  assert.ok((await bob.rest.v1.timelines.tag.$select(tag).list()).some(s => s.id === post.id), 'back on the tag timeline');
});
