// The labelled questions. Each has a plain form (it shares words with its passage) and a
// paraphrase that shares no content word with it (checked by paraphrase.ts). `where` says
// what counts as the right place: the page of a PDF, the heading of a DOCX, HTML or Markdown
// section, or for plain text and CSV a phrase the passage holds.
//
// Held out: the documents named in HELD_OUT were never looked at while tuning the fusion;
// their figures are reported apart to show whether the tuning generalises.

export type Where = { readonly page: number } | { readonly heading: string } | { readonly contains: string };

export interface SetQuestion {
  readonly document: string;
  readonly where: Where;
  readonly plain: string;
  readonly para: string;
}

export const HELD_OUT: ReadonlySet<string> = new Set(['procurement-rules.pdf', 'community-garden.md', 'budget-2025.csv', 'guia-archivo.docx']);

const page = (number: number): Where => ({ page: number });
const heading = (text: string): Where => ({ heading: text });
const contains = (text: string): Where => ({ contains: text });

export const SET_QUESTIONS: readonly SetQuestion[] = [
  // staff-handbook.pdf
  {
    document: 'staff-handbook.pdf',
    where: page(1),
    plain: 'How many days of annual leave do employees get?',
    para: 'What vacation allowance does a worker earn?',
  },
  { document: 'staff-handbook.pdf', where: page(2), plain: 'How many days per week can staff work from home?', para: 'How often may personnel telecommute?' },
  {
    document: 'staff-handbook.pdf',
    where: page(3),
    plain: 'When are travel expenses refunded?',
    para: "What is the reimbursement rate for driving one's own automobile?",
  },
  // harbour-operations.docx
  {
    document: 'harbour-operations.docx',
    where: heading('Berthing'),
    plain: 'Where do vessels longer than 120 metres berth?',
    para: 'Which dock takes the biggest ships?',
  },
  {
    document: 'harbour-operations.docx',
    where: heading('Cargo inspection'),
    plain: 'How many containers do customs officers inspect?',
    para: 'What share of shipments do border agents examine?',
  },
  {
    document: 'harbour-operations.docx',
    where: heading('Storm procedure'),
    plain: 'What happens to crane work when the wind forecast exceeds forty knots?',
    para: 'Which activities halt during severe gales?',
  },
  // it-security.html
  {
    document: 'it-security.html',
    where: heading('Passwords'),
    plain: 'How long must passwords be?',
    para: 'What minimum length is required for a login secret?',
  },
  {
    document: 'it-security.html',
    where: heading('Lost laptops'),
    plain: 'What to do when a laptop is lost or stolen?',
    para: 'My notebook computer went missing, whom should I notify?',
  },
  {
    document: 'it-security.html',
    where: heading('Phishing'),
    plain: 'How are suspicious e-mails reported to the security team?',
    para: 'Someone sent me a scam message requesting my login; what should I do?',
  },
  // kitchen-guide.md
  {
    document: 'kitchen-guide.md',
    where: heading('Food storage'),
    plain: 'Which shelf of the fridge is raw meat stored on?',
    para: 'Where should uncooked beef go in the refrigerator?',
  },
  {
    document: 'kitchen-guide.md',
    where: heading('Cleaning'),
    plain: 'When are the extractor hood filters degreased?',
    para: 'How often does someone wash the stove vent?',
  },
  {
    document: 'kitchen-guide.md',
    where: heading('Allergens'),
    plain: 'Where are peanut and sesame dishes prepared?',
    para: 'Is there a dedicated area for nut-free cooking?',
  },
  // fleet-maintenance.txt
  {
    document: 'fleet-maintenance.txt',
    where: contains('Tyre tread depth'),
    plain: 'When are tyres replaced on the delivery vans?',
    para: 'How worn can the rubber on our trucks get?',
  },
  {
    document: 'fleet-maintenance.txt',
    where: contains('The engine oil and the oil filter'),
    plain: 'How often is the engine oil changed?',
    para: 'What is the lubricant replacement interval for motors?',
  },
  {
    document: 'fleet-maintenance.txt',
    where: contains('Brake pads are inspected'),
    plain: 'What should a driver do when hearing grinding from the wheels?',
    para: 'Whom to phone about a squealing noise while stopping a vehicle?',
  },
  // procurement-rules.pdf (held out)
  {
    document: 'procurement-rules.pdf',
    where: page(1),
    plain: 'How many written quotes are needed for a purchase above five thousand euros?',
    para: 'When must we compare offers from several vendors?',
  },
  {
    document: 'procurement-rules.pdf',
    where: page(2),
    plain: 'What documents must new suppliers send?',
    para: 'Which paperwork do fresh vendors provide before receiving money?',
  },
  {
    document: 'procurement-rules.pdf',
    where: page(3),
    plain: 'Who signs contracts worth more than twenty thousand euros?',
    para: 'How many people must approve big agreements?',
  },
  // library-services.docx
  {
    document: 'library-services.docx',
    where: heading('Borrowing'),
    plain: 'How many books can members borrow at a time?',
    para: 'What is the lending limit per patron?',
  },
  {
    document: 'library-services.docx',
    where: heading('Late returns'),
    plain: 'How much do overdue books cost per day?',
    para: 'What penalty applies to tardy volumes?',
  },
  {
    document: 'library-services.docx',
    where: heading('Rare manuscripts'),
    plain: 'Can I take photographs of rare manuscripts?',
    para: 'Are old handwritten documents available to view?',
  },
  // community-garden.md (held out)
  {
    document: 'community-garden.md',
    where: heading('Watering'),
    plain: 'When should plots be watered?',
    para: 'What time of day is best for irrigating vegetables?',
  },
  {
    document: 'community-garden.md',
    where: heading('Compost'),
    plain: 'What goes in the compost bins?',
    para: 'Which kitchen scraps can be recycled into soil?',
  },
  {
    document: 'community-garden.md',
    where: heading('Trees'),
    plain: 'When are the fruit trees pruned?',
    para: 'What season is best to cut back orchard plants?',
  },
  // budget-2025.csv (held out)
  {
    document: 'budget-2025.csv',
    where: contains('Roof repair'),
    plain: 'How much is budgeted for the roof repair on the archive building?',
    para: 'What will fixing the top of the records depot cost?',
  },
  {
    document: 'budget-2025.csv',
    where: contains('Laptop renewal'),
    plain: 'What is the amount for laptop renewal?',
    para: 'How much will new notebook computers for the workforce cost?',
  },
  {
    document: 'budget-2025.csv',
    where: contains('Boiler replacement'),
    plain: 'Why is the boiler being replaced?',
    para: 'Are we switching our furnace to something greener?',
  },
  // manual-empleados.pdf
  {
    document: 'manual-empleados.pdf',
    where: page(1),
    plain: '¿Cuántos días de vacaciones tiene cada empleado?',
    para: '¿Qué descanso anual corresponde a la plantilla?',
  },
  { document: 'manual-empleados.pdf', where: page(2), plain: '¿Cuántos días por semana se permite el teletrabajo?', para: '¿Puedo trabajar desde casa?' },
  {
    document: 'manual-empleados.pdf',
    where: page(3),
    plain: '¿Cuánto son las dietas de viaje diarias?',
    para: '¿Qué cantidad se abona por manutención al desplazarse?',
  },
  // protocolo-incendios.html
  {
    document: 'protocolo-incendios.html',
    where: heading('Evacuación'),
    plain: '¿Dónde está el punto de reunión en una evacuación?',
    para: '¿Hacia qué lugar hay que ir cuando suena la sirena?',
  },
  {
    document: 'protocolo-incendios.html',
    where: heading('Extintores'),
    plain: '¿Cada cuánto se revisan los extintores?',
    para: '¿Con qué frecuencia inspeccionan los aparatos contra el fuego?',
  },
  {
    document: 'protocolo-incendios.html',
    where: heading('Simulacros'),
    plain: '¿Cuántos simulacros de evacuación se realizan al año?',
    para: '¿Cuántas prácticas de emergencia hacemos?',
  },
  // guia-archivo.docx (held out)
  {
    document: 'guia-archivo.docx',
    where: heading('Conservación'),
    plain: '¿A qué temperatura se guardan los legajos?',
    para: '¿En qué condiciones climáticas se mantienen los papeles antiguos?',
  },
  {
    document: 'guia-archivo.docx',
    where: heading('Consulta'),
    plain: '¿Cómo consultan los investigadores los documentos?',
    para: '¿Necesito pedir hora para revisar fondos históricos?',
  },
  {
    document: 'guia-archivo.docx',
    where: heading('Digitalización'),
    plain: '¿A qué resolución se escanean los libros de actas?',
    para: '¿Con cuánta nitidez se pasan los registros antiguos a formato electrónico?',
  },
  // becas-formacion.txt
  {
    document: 'becas-formacion.txt',
    where: contains('Pueden pedir una beca'),
    plain: '¿Quién puede pedir una beca de formación?',
    para: '¿Qué trabajadores optan a ayudas para estudiar?',
  },
  {
    document: 'becas-formacion.txt',
    where: contains('Las solicitudes se presentan'),
    plain: '¿Cuándo se presentan las solicitudes de beca?',
    para: '¿En qué mes se entregan las peticiones y cuándo contestan?',
  },
];
