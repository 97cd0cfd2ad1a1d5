// ARI /mailboxes through node-ari-client (Asterisk's ARI client library for Node.js): it reads
// the API description and calls the operations it finds there. Exits 1 on any mismatch.
//   node mailboxes_client.js URL USER PASSWORD MAILBOX
const ari = require('ari-client');
const [url, user, password, mailbox] = process.argv.slice(2);

function check(what, ok, detail) {
  if (!ok) {
    console.error(`FAIL ${what}: ${detail}`);
    process.exit(1);
  }
  console.log(`ok ${what}`);
}

ari.connect(url, user, password).then(async (client) => {
  check('the description has mailboxes', typeof client.mailboxes.update === 'function', Object.keys(client));
  await client.mailboxes.update({mailboxName: mailbox, oldMessages: 2, newMessages: 5});
  const one = await client.mailboxes.get({mailboxName: mailbox});
  check('get', one.name === mailbox && one.old_messages === 2 && one.new_messages === 5,
        `${one.name} ${one.old_messages} ${one.new_messages}`);
  const all = await client.mailboxes.list();
  check('list', all.filter((m) => m.name === mailbox && m.new_messages === 5).length === 1,
        all.map((m) => m.name).join(','));
  await client.mailboxes.delete({mailboxName: mailbox});
  let gone;
  try {
    await client.mailboxes.get({mailboxName: mailbox});
    gone = 'still there';
  } catch (e) {
    gone = e.message;
  }
  check('deleted', gone.includes('Mailbox is does not exist'), gone);
  process.exit(0);
}).catch((e) => check('connect and calls', false, e && e.message));
